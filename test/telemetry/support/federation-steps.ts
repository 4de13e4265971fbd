import { freePort } from '@ampora/testing';
import { pairWithItself } from '../../support/federation-loop';
import { apiClient, expectStatus } from '../../support/rollout-kit';
import { Deployment } from './deployment';

/**
 * The federation part of the telemetry scenario (issue 19): B serves the federation listener; the
 * deployment is paired with itself (two peers of the default tenant, secrets swapped, each approved by
 * a second Admin), so A's ping is an outbound call (metrics and `federation.outbound_call` on A) that
 * B serves inbound in the same trace.
 */
export class FederationSteps {
  port = 0;
  /** The trace of A's ping through the link. */
  pingTrace = '';

  constructor(private readonly d: Deployment) {}

  /** The environment B's process needs (call before the deployment starts). */
  async listenerEnv(): Promise<Record<string, string>> {
    this.port = await freePort();
    return { AMPORA_FEDERATION_PORT: String(this.port), AMPORA_FEDERATION_HOST: '127.0.0.1' };
  }

  async pingThroughLoop(): Promise<void> {
    const { a, b } = this.d;
    // issued through B: B's listener takes it at once
    const cert = (await expectStatus(b.api, 'POST', '/api/federation/certificates', 201, { subject: 'ampora-telemetry' })).body;
    const approver = apiClient(a.url, (await expectStatus(a.api, 'POST', '/api/tokens', 201, { name: 'telemetry-federation-approver', role: 'Admin' })).body.token as string);
    await pairWithItself(a.api, approver, `https://127.0.0.1:${this.port}`, cert.certificatePem);
    const ping = await this.d.traced(a, 'GET', '/api/federation/ping?peer=loop-out');
    if (ping.status !== 200 || ping.body?.ok !== true) throw new Error(`the federation ping answered ${ping.status}: ${JSON.stringify(ping.body)}`);
    this.pingTrace = ping.traceId;
  }
}

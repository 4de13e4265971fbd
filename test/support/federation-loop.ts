import { Api, expectStatus } from './rollout-kit';

/**
 * Pairs a deployment with itself: two peers of the caller's tenant at `endpoint` (its own federation
 * listener), pinned to its own certificate, secrets swapped, each approved by `approver` (a second
 * Admin). Calls through `loop-out` are then answered by the listener as coming from `loop-in`.
 */
export async function pairWithItself(api: Api, approver: Api, endpoint: string, certificatePem: string): Promise<void> {
  const register = async (body: Record<string, unknown>) => {
    const created = (await expectStatus(api, 'POST', '/api/federation/peers', 201, body)).body;
    await expectStatus(approver, 'POST', `/api/approvals/${created.approvalId}/approve`, 200, {});
    return created as { inboundSecret: string; outboundSecret: string };
  };
  const out = await register({ name: 'loop-out', endpoint, remoteCertificatePem: certificatePem });
  await register({ name: 'loop-in', endpoint, remoteCertificatePem: certificatePem, inboundSecret: out.outboundSecret, outboundSecret: out.inboundSecret });
}

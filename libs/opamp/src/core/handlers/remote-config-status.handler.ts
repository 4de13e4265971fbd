import { Injectable } from '@nestjs/common';
import { extractTraceContext, Metrics, TenantLabels, withSpanSync } from '@ampora/platform';
import { RemoteConfigStatuses } from '../../generated/opamp_pb';
import type { RemoteConfigStatusName } from '../../ports';
import { toHex } from '../../protocol/config-hash';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

const STATUS_NAMES: Record<number, RemoteConfigStatusName> = {
  [RemoteConfigStatuses.RemoteConfigStatuses_UNSET]: 'UNSET',
  [RemoteConfigStatuses.RemoteConfigStatuses_APPLIED]: 'APPLIED',
  [RemoteConfigStatuses.RemoteConfigStatuses_APPLYING]: 'APPLYING',
  [RemoteConfigStatuses.RemoteConfigStatuses_FAILED]: 'FAILED',
};

/**
 * `remote_config_status`: what the agent did with the config it was offered. FAILED arms the rollback
 * trap (that hash is not offered again until the desired config changes); APPLIED disarms it and
 * records push → APPLIED (`ampora_opamp_apply_duration_seconds`).
 */
@Injectable()
export class RemoteConfigStatusHandler implements AgentToServerPartHandler {
  handle({ message, report, session, now }: FrameContext): void {
    const s = message.remoteConfigStatus;
    if (!s) return;
    const status = STATUS_NAMES[s.status] ?? 'UNSET';
    const hash = toHex(s.lastRemoteConfigHash);
    session.reportedConfigHash = hash;
    session.reportedStatus = status;
    report.remoteConfigStatus = { status, hash, errorMessage: s.errorMessage };
    // in the trace of the push it answers (the REST call or rollout step that sent this config), when known
    const pushTrace = session.pushTraces.get(hash);
    withSpanSync('opamp.apply_status', { parent: pushTrace ? extractTraceContext(pushTrace) : undefined, attributes: { 'agent.id': session.agentId, 'remote_config.status': status, 'remote_config.hash': hash } }, () => undefined);
    if (status === 'APPLIED' || status === 'FAILED') session.pushTraces.delete(hash);
    if (status === 'FAILED' && hash) {
      // rollback trap: never offer this config again until the desired config changes
      if (session.failedConfigHash !== hash) report.failedConfigHash = hash;
      session.failedConfigHash = hash;
      session.pushedAt.delete(hash);
    }
    if (status === 'APPLIED' && hash) {
      const pushed = session.pushedAt.get(hash);
      if (pushed !== undefined) {
        Metrics.record('ampora_opamp_apply_duration_seconds', (now - pushed) / 1000, { tenant: TenantLabels.of(session.tenantId), agent_type: session.agentType || 'unknown' });
        session.pushedAt.delete(hash);
      }
      if (session.failedConfigHash === hash) {
        session.failedConfigHash = undefined;
        report.failedConfigHash = '';
      }
    }
  }
}

import type { ApiClient } from '../api';
import { age, labelText } from '../domain/output';
import { renderRollout, RolloutView } from '../domain/rollout-view';
import { requireByName } from '../resources';
import { usageError } from '../exit-codes';

type Out = (text: string) => void;

/** `ampora describe agent <id>` (health tree, effective vs assigned, certificate, history) and `describe rollout <name>`. */
export async function describe(api: ApiClient, kind: string, id: string, out: Out): Promise<void> {
  const k = kind.toLowerCase();
  if (['agent', 'agents', 'ag'].includes(k)) return describeAgent(api, id, out);
  if (['rollout', 'rollouts', 'ro'].includes(k)) {
    const r = await requireByName(api, '/api/rollouts', id, 'rollout');
    out(renderRollout((await api.get(`/api/rollouts/${r.id}`)) as RolloutView, Date.now()));
    return;
  }
  throw usageError(`describe knows agent and rollout, not ${JSON.stringify(kind)}`);
}

async function describeAgent(api: ApiClient, id: string, out: Out): Promise<void> {
  const a = await api.get(`/api/agents/${encodeURIComponent(id)}`);
  const history = (await api.send('GET', `/api/agents/${a.id}/config-history?limit=10`)).body?.items ?? [];
  const now = Date.now();
  const lines = [
    `Name:         ${a.displayName}`,
    `ID:           ${a.id}`,
    `Instance UID: ${a.instanceUid}`,
    `Type:         ${a.agentType} ${a.agentVersion}`,
    `Status:       ${a.status}${a.connection?.transport ? ` over ${a.connection.transport}` : ''} (last seen ${age(a.lastSeenAt, now) || 'never'} ago)`,
    `Group:        ${a.groupId ?? '<none>'}${a.groupPinned ? ' (pinned)' : ''}`,
    `Labels:       ${labelText(a.labels) || '<none>'}`,
    `Tags:         ${labelText(a.tags) || '<none>'}`,
    'Health:',
    ...healthTree(a.health, '  '),
    'Configuration:',
    `  Assigned:   ${a.assignment ? `${a.assignment.source}${a.assignment.version ? ` v${a.assignment.version}` : ' (inline yaml)'}` : '<none>'}${a.assignedConfig ? ` hash ${String(a.assignedConfig.hash).slice(0, 12)}` : ''}`,
    `  Effective:  ${a.effectiveConfig?.hash ? `hash ${String(a.effectiveConfig.hash).slice(0, 12)}` : '<not reported>'}`,
    `  Drift:      ${a.drift === true ? 'drifted (GET /api/agents/{id}/drift says why)' : a.drift === false ? 'none: it runs what it was assigned' : String(a.drift)}`,
    `  Remote:     ${a.remoteConfig?.status ?? '<none>'}${a.remoteConfig?.errorMessage ? ` — ${a.remoteConfig.errorMessage}` : ''}`,
    ...(a.pushDenial ? [`  Denied:     by ${a.pushDenial.policyName}: ${a.pushDenial.reason} (${a.pushDenial.path}, ${age(a.pushDenial.at, now)} ago)`] : []),
    'Certificate:',
    `  Identity:   ${a.identity?.kind ?? '<unknown>'}${a.identity?.certificateFingerprint ? ` ${a.identity.certificateFingerprint}` : ''}`,
    ...(a.identity?.certificateOffer ? [`  Offer:      ${JSON.stringify(a.identity.certificateOffer)}`] : []),
    'History:',
    ...(history.length ? history.map(historyLine) : ['  <none>']),
  ];
  out(lines.join('\n') + '\n');
}

/** One config-history entry: when, what (PUSHED or the status reported), which version, the error. */
function historyLine(h: { at: string; kind: string; configHash: string; version: { version: number } | null; message: string | null }): string {
  return `  ${h.at}  ${h.kind.padEnd(8)} ${h.version ? `v${h.version.version}` : String(h.configHash).slice(0, 12)}${h.message ? `  ${h.message}` : ''}`;
}

/** The health report as an indented tree: component, healthy, status, error. */
export function healthTree(h: unknown, indent: string): string[] {
  if (!h || typeof h !== 'object') return [`${indent}<not reported>`];
  const node = h as { healthy?: boolean; status?: string; last_error?: string; lastError?: string; component_health_map?: Record<string, unknown>; componentHealthMap?: Record<string, unknown> };
  const self = `${node.healthy === undefined ? '?' : node.healthy ? 'healthy' : 'UNHEALTHY'}${node.status ? ` ${node.status}` : ''}${(node.last_error ?? node.lastError) ? ` — ${node.last_error ?? node.lastError}` : ''}`;
  const children = node.component_health_map ?? node.componentHealthMap ?? {};
  return [`${indent}${self}`, ...Object.entries(children).flatMap(([name, child]) => [`${indent}  ${name}:`, ...healthTree(child, `${indent}    `)])];
}

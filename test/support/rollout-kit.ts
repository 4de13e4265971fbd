import { AgentCapability, eventually, RemoteConfigStatus, S2A, TestAgent, TestAgentOptions } from '@ampora/testing';

/**
 * Helpers shared by the rollout suites: a fetch-based API client (works for an in-process server and
 * for server processes alike), published configuration versions, static groups, simulated agents that
 * apply, fail, ignore or drop the connection on a remote config, and rollout polling.
 */

export interface ApiResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  contentType: string;
}

export type Api = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

export function apiClient(baseUrl: string, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, contentType: res.headers.get('content-type') ?? '' };
  };
}

/** Calls the API and fails with the answer when the status is not the expected one. */
export async function expectStatus(api: Api, method: string, path: string, status: number, body?: unknown): Promise<ApiResponse> {
  const res = await api(method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status} (expected ${status}): ${JSON.stringify(res.body)}`);
  return res;
}

/** A small collector configuration, different for each tag. */
export const collectorYaml = (tag: string, signal = 'traces') =>
  `# ${tag}\nreceivers:\n  otlp: {}\nexporters:\n  debug/${tag}: {}\nservice:\n  pipelines:\n    ${signal}:\n      receivers: [otlp]\n      exporters: [debug/${tag}]\n`;

export interface PublishedVersion {
  configurationId: string;
  number: number;
  id: string;
  /** What agents report as their remote config hash (hex). */
  configHash: string;
  yaml: string;
}

/** One configuration with one Published version per YAML, in order (numbers 1, 2, ...). */
export async function publishVersions(api: Api, yamls: string[], name = `rollout-cfg-${Math.random().toString(36).slice(2, 9)}`): Promise<PublishedVersion[]> {
  const c = (await expectStatus(api, 'POST', '/api/configurations', 201, { name })).body;
  const out: PublishedVersion[] = [];
  for (const yaml of yamls) {
    const v = (await expectStatus(api, 'POST', `/api/configurations/${c.id}/versions`, 201, { yaml })).body;
    await expectStatus(api, 'POST', `/api/configurations/${c.id}/versions/${v.number}/publish`, 200);
    out.push({ configurationId: c.id, number: v.number, id: v.id, configHash: v.configHash, yaml });
  }
  return out;
}

export async function createStaticGroup(api: Api, name = `rollout-g-${Math.random().toString(36).slice(2, 9)}`): Promise<{ id: string; name: string }> {
  return (await expectStatus(api, 'POST', '/api/groups', 201, { name, kind: 'Static' })).body;
}

export async function assignGroup(api: Api, groupId: string, v: PublishedVersion): Promise<unknown> {
  return (await expectStatus(api, 'PUT', `/api/groups/${groupId}/assignment`, 200, { configurationId: v.configurationId, version: v.number })).body;
}

/** What a simulated agent does with a remote config. */
export type PushAction = 'apply' | 'fail' | 'ignore' | 'disconnect';

export interface Push {
  hash: string;
  body: string;
  at: number;
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '');
const bodyOf = (m: S2A) => Buffer.from(Object.values(m.remote_config?.config?.config_map ?? {})[0]?.body ?? Buffer.alloc(0)).toString('utf8');

/**
 * A WebSocket agent that records every remote config it receives and answers it according to
 * `decide(hash)`: apply (APPLYING then APPLIED after `delayMs`), fail (FAILED with an error text),
 * ignore, or disconnect (`delayMs` after the push, without answering).
 */
export class SimAgent {
  readonly agent: TestAgent;
  id = '';
  readonly pushes: Push[] = [];
  delayMs = 0;
  decide: (hash: string) => PushAction = () => 'apply';
  readonly errorText = 'exporter "debug" failed to start: simulated';

  constructor(opts: TestAgentOptions) {
    this.agent = new TestAgent({ ...opts, autoApply: false });
    this.agent.onRemoteConfig = (m, at) => this.onPush(m, at);
  }

  get uidText(): string {
    const h = this.agent.uid.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  /** Pushes received since `since` (ms), optionally only those of one hash. */
  pushesSince(since: number, hash?: string): Push[] {
    return this.pushes.filter((p) => p.at >= since && (hash === undefined || p.hash === hash));
  }

  get connected(): boolean {
    return this.agent.ws?.readyState === 1;
  }

  private onPush(m: S2A, at: number): void {
    const hash = hex(m.remote_config!.config_hash);
    this.pushes.push({ hash, body: bodyOf(m), at });
    const action = this.decide(hash);
    const act = () => {
      if (!this.connected) return;
      if (action === 'apply') {
        this.agent.appliedHash = Buffer.from(hash, 'hex');
        this.agent.appliedBody = bodyOf(m);
        this.agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, Buffer.from(hash, 'hex'));
      } else if (action === 'fail') {
        this.agent.reportRemoteConfig(RemoteConfigStatus.FAILED, Buffer.from(hash, 'hex'), this.errorText);
      } else if (action === 'disconnect') {
        this.agent.ws?.terminate();
      }
    };
    if (action === 'apply' || action === 'fail') {
      if (this.connected) this.agent.reportRemoteConfig(RemoteConfigStatus.APPLYING, Buffer.from(hash, 'hex'));
    }
    if (this.delayMs > 0 || action === 'disconnect') setTimeout(act, this.delayMs);
    else act();
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * Enrols `count` agents into `groupId` (one single-use bootstrap token each) and answers them with
 * their agent ids, in enrolment order. `capabilities(i)` can take AcceptsRemoteConfig away.
 */
export async function enrollAgents(
  api: Api,
  wsUrl: string,
  count: number,
  options: { groupId: string; capabilities?: (i: number) => number | undefined; hostPrefix?: string; parallel?: number; labels?: (i: number) => Record<string, string> } ,
): Promise<SimAgent[]> {
  const sims: SimAgent[] = [];
  const parallel = options.parallel ?? 8;
  for (let start = 0; start < count; start += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - start) }, async (_, k) => {
        const i = start + k;
        const token = (await expectStatus(api, 'POST', '/api/bootstrap-tokens', 201, { label: `rollout agent ${i}`, groupId: options.groupId })).body.token as string;
        const sim = new SimAgent({
          url: wsUrl,
          token,
          capabilities: options.capabilities?.(i),
          nonIdentifying: { 'host.name': `${options.hostPrefix ?? 'host'}-${String(i).padStart(3, '0')}`, ...options.labels?.(i) },
        });
        await sim.agent.connect();
        sim.agent.hello();
        const first = await sim.agent.next(10000);
        if (first.error_response) throw new Error(`agent ${i} was refused: ${JSON.stringify(first.error_response)}`);
        return sim;
      }),
    );
    sims.push(...batch);
  }
  const members = await eventually(async () => {
    const items = (await expectStatus(api, 'GET', `/api/agents?groupId=${options.groupId}&limit=500`, 200)).body.items as Array<{ id: string; instanceUid: string }>;
    return items.length >= count && sims.every((s) => items.some((a) => a.instanceUid === s.uidText)) ? items : undefined;
  }, 20000);
  for (const s of sims) s.id = members.find((a) => a.instanceUid === s.uidText)!.id;
  return sims;
}

/** Every capability of the default TestAgent except AcceptsRemoteConfig. */
export const NO_REMOTE_CONFIG = AgentCapability.ReportsStatus | AgentCapability.ReportsRemoteConfig | AgentCapability.ReportsEffectiveConfig | AgentCapability.ReportsHeartbeat;

export interface RolloutTarget {
  agentId: string;
  displayName: string;
  step: number;
  position: number;
  state: 'Pending' | 'Applying' | 'Applied' | 'Failed' | 'Skipped';
  reason: string | null;
  pushedAt: string | null;
  appliedAt: string | null;
  disconnectedSincePush: boolean;
}

export interface Counts {
  pending: number;
  applying: number;
  applied: number;
  failed: number;
  skipped: number;
  disconnectedSincePush: number;
  total: number;
}

export interface Rollout {
  id: string;
  name: string;
  kind?: string;
  state: string;
  currentStep: number | null;
  stepCount: number;
  dwellUntil: string | null;
  waitingFor: string | null;
  gate: { gate: string; observed: number; threshold: number; numerator: number; denominator: number; agents: string[]; step: number; at: string } | null;
  counts: Counts;
  steps: Array<{ index: number; agents: number; startedAt: string; settledAt: string | null; dwellUntil: string | null; extendedSeconds: number; last: boolean; counts: Counts }>;
  targets: RolloutTarget[];
  rollbackId?: string | null;
  [key: string]: unknown;
}

export async function createRollout(api: Api, body: Record<string, unknown>): Promise<Rollout> {
  return (await expectStatus(api, 'POST', '/api/rollouts', 201, { name: `rollout-${Math.random().toString(36).slice(2, 9)}`, ...body })).body;
}

export async function getRollout(api: Api, id: string): Promise<Rollout> {
  return (await expectStatus(api, 'GET', `/api/rollouts/${id}`, 200)).body;
}

export async function act(api: Api, id: string, action: string, body?: unknown): Promise<Rollout> {
  return (await expectStatus(api, 'POST', `/api/rollouts/${id}/${action}`, 200, body)).body;
}

/** Polls the rollout until `predicate` holds; the error names the last state seen. */
export async function waitRollout(api: Api, id: string, predicate: (r: Rollout) => boolean, timeoutMs = 30000, what = 'the expected condition'): Promise<Rollout> {
  let last: Rollout | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    last = await getRollout(api, id);
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      const { targets, ...rest } = last;
      throw new Error(`rollout ${id} did not reach ${what} within ${timeoutMs} ms; last seen: ${JSON.stringify(rest)}; targets by state: ${JSON.stringify(countBy(targets ?? [], (t) => `${t.step}:${t.state}`))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const waitState = (api: Api, id: string, state: string, timeoutMs = 30000) => waitRollout(api, id, (r) => r.state === state, timeoutMs, `state ${state}`);

/** Every target, through GET /api/rollouts/{id}/targets pages. */
export async function allTargets(api: Api, id: string): Promise<RolloutTarget[]> {
  const out: RolloutTarget[] = [];
  let after: number | null = null;
  for (;;) {
    const page: { items: RolloutTarget[]; nextAfter: number | null } = (await expectStatus(api, 'GET', `/api/rollouts/${id}/targets?limit=7${after === null ? '' : `&after=${after}`}`, 200)).body;
    out.push(...page.items);
    if (page.nextAfter === null || page.nextAfter === undefined) return out;
    after = page.nextAfter;
  }
}

/** The audit events of one rollout, oldest first. */
export async function rolloutAudit(api: Api, id: string): Promise<Array<{ action: string; actor: string; entityType: string; before: unknown; after: unknown; additional: Record<string, unknown> | null }>> {
  const items = (await expectStatus(api, 'GET', `/api/audit/events?entityType=Rollout&entityId=${id}&limit=500`, 200)).body.items as Array<{
    action: string;
    actor: string;
    entityType: string;
    timestamp: string;
    before: unknown;
    after: unknown;
    additional: Record<string, unknown> | null;
  }>;
  return [...items].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

/** Agent ids of step `step` in a preview answer. */
export function previewAgentIds(body: unknown, step: number): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const b = body as any;
  const pick = (agents: unknown[]): string[] => agents.map((a) => (typeof a === 'string' ? a : ((a as { agentId?: string; id?: string }).agentId ?? (a as { id: string }).id)));
  if (Array.isArray(b?.steps)) {
    const s = b.steps.find((x: { index?: number; step?: number }) => (x.index ?? x.step) === step) ?? b.steps[step];
    return pick(s.agents);
  }
  if (Array.isArray(b?.agents)) return pick(b.agents);
  if (Array.isArray(b?.items)) return pick(b.items);
  throw new Error(`unexpected preview answer: ${JSON.stringify(body)}`);
}

export function countBy<T>(items: T[], key: (t: T) => string | number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[String(key(i))] = (out[String(key(i))] ?? 0) + 1;
  return out;
}

export async function agentDetail(api: Api, id: string): Promise<{ remoteConfig: { status: string | null; hash: string | null; errorMessage: string | null }; assignment: { source: string; versionId: string | null; version: number | null } | null; status: string }> {
  return (await expectStatus(api, 'GET', `/api/agents/${id}`, 200)).body;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every agent's inventory row reports `hash` APPLIED. The rows trail what the engine saw:
 * answers reach it over the live-update bus before the coalescing state writer's next flush.
 */
export async function waitApplied(api: Api, ids: string[], hash: string, timeoutMs = 5000): Promise<void> {
  const stale = async () => {
    const details = await Promise.all(ids.map(async (id) => ({ id, remoteConfig: (await agentDetail(api, id)).remoteConfig })));
    return details.filter((d) => d.remoteConfig.status !== 'APPLIED' || d.remoteConfig.hash !== hash);
  };
  const ok = await eventually(async () => ((await stale()).length === 0 ? true : undefined), timeoutMs).catch(() => false);
  if (!ok) throw new Error(`agents not reporting ${hash} APPLIED after ${timeoutMs} ms: ${JSON.stringify(await stale())}`);
}

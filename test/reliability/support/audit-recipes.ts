import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, scratch } from '@ampora/testing';

/**
 * A valid call of every mutating operation of /openapi.json (issue 16 §6), in an order that makes
 * what each one needs: the audit probe runs them one after the other and reads the audit events
 * each one wrote (by its trace id). A mutating operation without a recipe here fails the probe, so a
 * new route is either given one or seen.
 */
export interface Request {
  /** Path parameters by name. */
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** A raw body (a package) with its content type. */
  raw?: { data: Buffer; contentType: string };
  headers?: Record<string, string>;
  /** Another caller than the deployment's admin (a second Admin approves a change the first made). */
  token?: string;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  traceId?: string;
}

export interface RecipeContext {
  /** Calls the REST API (as the admin, or `token`) outside the recipes: the set-up of a recipe. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<Answer>;
  /** Names and ids the recipes share. */
  ids: Record<string, string>;
  /** A second Admin (made by the `POST /api/tokens` recipe): approvals need another person. */
  secondAdmin(): string;
  /**
   * Connects the agent under `key` to the TLS listener with the certificate Ampora offered it when
   * it first connected on its bootstrap token (so the certificate is in use: rotate-cert needs that).
   */
  connectWithCertificate(key: string): Promise<void>;
}

export interface Recipe {
  /** `METHOD /path` as in /openapi.json. */
  op: string;
  /** Prepares what the call needs and answers the call; `after` keeps what later recipes use. */
  request(ctx: RecipeContext): Promise<Request>;
  after?(ctx: RecipeContext, answer: Answer): void;
}

/**
 * An operation that cannot succeed on one deployment alone (it needs a paired peer): the named e2e
 * test, which runs two deployments, calls it and asserts its audit event on each side. The probe
 * checks that the file exists and calls the route, and counts these apart.
 */
export interface ProvenElsewhere {
  op: string;
  test: string;
  /** A string of the route's path that the test file must contain. */
  mentions: string;
}

export const PROVEN_ELSEWHERE: ProvenElsewhere[] = [
  { op: 'POST /api/agents/{id}/handover', test: 'test/federation-handover.e2e-spec.ts', mentions: '/handover' },
];

export const YAML = 'receivers:\n  otlp:\n    protocols:\n      grpc: {}\nprocessors:\n  batch: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [debug]\n';
const YAML_2 = YAML.replace('batch: {}', 'batch:\n    timeout: 2s');

async function created(ctx: RecipeContext, path: string, body: unknown, token?: string): Promise<string> {
  const res = await ctx.api('POST', path, body, token);
  if (res.status !== 201 && res.status !== 200) throw new Error(`set-up POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return ((res.body.peer as { id?: string } | undefined)?.id ?? res.body.id) as string;
}

async function publishedConfiguration(ctx: RecipeContext, name: string): Promise<string> {
  const id = await created(ctx, '/api/configurations', { name });
  await created(ctx, `/api/configurations/${id}/versions`, { yaml: YAML });
  const published = await ctx.api('POST', `/api/configurations/${id}/versions/1/publish`);
  if (published.status !== 200) throw new Error(`set-up publish: ${published.status} ${JSON.stringify(published.body)}`);
  return id;
}

/** A policy submitted for approval by the deployment's admin; answers its id. */
async function pendingPolicy(ctx: RecipeContext, name: string): Promise<string> {
  const id = await created(ctx, '/api/policies', { name, expression: 'true' });
  const submitted = await ctx.api('POST', `/api/policies/${id}/submit`);
  if (submitted.status !== 200) throw new Error(`set-up submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  return id;
}

async function approvalOf(ctx: RecipeContext, policyId: string): Promise<string> {
  const res = await ctx.api('GET', `/api/approvals?status=Pending&subjectId=${policyId}`);
  const item = (res.body.items as Array<{ id: string }> | undefined)?.[0];
  if (!item) throw new Error(`no pending approval of policy ${policyId}: ${JSON.stringify(res.body)}`);
  return item.id;
}

async function csr(): Promise<string> {
  const files = scratch('ampora-audit-');
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'a.key', '-out', 'a.csr', '-subj', '/CN=audit-probe'], files.dir);
  return readFileSync(join(files.dir, 'a.csr'), 'utf8');
}

/** Polls the rollout until `done` holds (the worker ticks it; the agents apply on their own). */
async function rolloutUntil(ctx: RecipeContext, what: string, done: (r: Rollout) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: Rollout | undefined;
  while (Date.now() < deadline) {
    last = (await ctx.api('GET', `/api/rollouts/${ctx.ids.rollout}`)).body as unknown as Rollout;
    if (done(last)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const brief = last && { state: last.state, currentStep: last.currentStep, waitingFor: (last as unknown as Record<string, unknown>).waitingFor, steps: last.steps, targets: (last as unknown as Record<string, unknown>).targets };
  throw new Error(`rollout never ${what}: ${JSON.stringify(brief)}`);
}

interface Rollout {
  state: string;
  currentStep: number | null;
  steps: Array<{ index: number; counts: { pending: number; applying: number; total: number } }>;
}

const settled = (r: Rollout) => r.currentStep !== null && r.steps.some((s) => s.index === r.currentStep && s.counts.total > 0 && s.counts.pending + s.counts.applying === 0);

const PACKAGE = Buffer.from('an audited package');
const PUBLISHER = generateKeyPairSync('ed25519');

const id = (ctx: RecipeContext, key: string) => ({ id: ctx.ids[key]! });
const keep = (key: string) => (ctx: RecipeContext, answer: Answer) => {
  ctx.ids[key] = ((answer.body.peer as { id?: string } | undefined)?.id ?? answer.body.id) as string;
};

export const RECIPES: Recipe[] = [
  // governance: tokens first (the second Admin approves later)
  { op: 'POST /api/tokens', request: async () => ({ body: { name: 'audit-second-admin', role: 'Admin' } }), after: (ctx, a) => void (ctx.ids.secondAdmin = a.body.token as string) },
  { op: 'DELETE /api/tokens/{id}', request: async (ctx) => ({ params: { id: await created(ctx, '/api/tokens', { name: 'audit-doomed', role: 'Viewer' }) } }) },
  { op: 'POST /api/bootstrap-tokens', request: async () => ({ body: { label: 'audit-bootstrap' } }), after: keep('bootstrapToken') },
  { op: 'DELETE /api/bootstrap-tokens/{id}', request: async (ctx) => ({ params: id(ctx, 'bootstrapToken') }) },

  // configurations
  { op: 'POST /api/configurations', request: async () => ({ body: { name: 'audit-config' } }), after: keep('config') },
  { op: 'PATCH /api/configurations/{id}', request: async (ctx) => ({ params: id(ctx, 'config'), body: { description: 'audited' } }) },
  { op: 'POST /api/configurations/{id}/versions', request: async (ctx) => ({ params: id(ctx, 'config'), body: { yaml: YAML } }) },
  { op: 'PUT /api/configurations/{id}/versions/{n}', request: async (ctx) => ({ params: { ...id(ctx, 'config'), n: '1' }, body: { yaml: YAML_2 } }) },
  { op: 'POST /api/configurations/{id}/versions/{n}/publish', request: async (ctx) => ({ params: { ...id(ctx, 'config'), n: '1' } }) },
  { op: 'POST /api/configurations/{id}/versions/{n}/archive', request: async (ctx) => ({ params: { id: await publishedConfiguration(ctx, 'audit-archived'), n: '1' } }) },
  { op: 'DELETE /api/configurations/{id}', request: async (ctx) => ({ params: { id: await created(ctx, '/api/configurations', { name: 'audit-deleted' }) } }) },

  // groups
  { op: 'POST /api/groups', request: async () => ({ body: { name: 'audit-group', kind: 'Static' } }), after: keep('group') },
  { op: 'PATCH /api/groups/{id}', request: async (ctx) => ({ params: id(ctx, 'group'), body: { description: 'audited' } }) },
  { op: 'POST /api/groups/{id}/members', request: async (ctx) => ({ params: id(ctx, 'group'), body: { agentIds: [ctx.ids.agent2] } }) },
  { op: 'DELETE /api/groups/{id}/members/{agentId}', request: async (ctx) => ({ params: { ...id(ctx, 'group'), agentId: ctx.ids.agent2! } }) },
  { op: 'PUT /api/groups/{id}/assignment', request: async (ctx) => ({ params: id(ctx, 'group'), body: { configurationId: ctx.ids.config, version: 1 } }) },
  { op: 'DELETE /api/groups/{id}/assignment', request: async (ctx) => ({ params: id(ctx, 'group') }) },
  { op: 'DELETE /api/groups/{id}', request: async (ctx) => ({ params: { id: (ctx.ids.deletedGroup = await created(ctx, '/api/groups', { name: 'audit-deleted', kind: 'Static' })) } }) },
  { op: 'POST /api/groups/{id}/restore', request: async (ctx) => ({ params: id(ctx, 'deletedGroup') }) },

  // agents
  { op: 'PATCH /api/agents/{id}', request: async (ctx) => ({ params: id(ctx, 'agent'), body: { tags: { probe: 'audit' } } }) },
  { op: 'POST /api/agents/{id}/assign', request: async (ctx) => ({ params: id(ctx, 'agent'), body: { configurationId: ctx.ids.config, version: 1 } }) },
  { op: 'DELETE /api/agents/{id}/assignment', request: async (ctx) => ({ params: id(ctx, 'agent') }) },
  { op: 'POST /api/agents/{id}/move', request: async (ctx) => ({ params: id(ctx, 'agent'), body: { groupId: ctx.ids.group } }) },
  { op: 'POST /api/agents/bulk/move', request: async (ctx) => ({ body: { agentIds: [ctx.ids.agent2], groupId: ctx.ids.group } }) },
  { op: 'POST /api/agents/bulk/force-push', request: async (ctx) => ({ body: { agentIds: [ctx.ids.agent] } }) },
  { op: 'POST /api/agents/{id}/opamp-endpoint', request: async (ctx) => ({ params: id(ctx, 'agent'), body: { endpoint: 'wss://opamp.example.com/v1/opamp' } }) },
  // the group holds the first two agents (moved above), which take connection settings
  { op: 'POST /api/groups/{id}/opamp-endpoint', request: async (ctx) => ({ params: id(ctx, 'group'), body: { endpoint: 'wss://opamp.example.com/v1/opamp' } }) },
  { op: 'POST /api/agents/bulk/assign', request: async (ctx) => ({ body: { agentIds: [ctx.ids.agent, ctx.ids.agent2], configurationId: ctx.ids.config, version: 1 } }) },
  {
    op: 'POST /api/packages/{name}/versions/{version}',
    request: async () => ({
      params: { name: 'audit-collector', version: '1.0.0' },
      query: 'type=TopLevel',
      raw: { data: PACKAGE, contentType: 'application/octet-stream' },
      headers: { 'ampora-package-signature': sign(null, PACKAGE, PUBLISHER.privateKey).toString('base64') },
    }),
  },
  { op: 'POST /api/packages/{name}/versions/{version}/assign', request: async (ctx) => ({ params: { name: 'audit-collector', version: '1.0.0' }, body: { agentIds: [ctx.ids.agent] } }) },

  // rollouts, on the group the two agents are in
  { op: 'PUT /api/rollouts/defaults', request: async () => ({ body: { ordering: 'hostname' } }) },
  { op: 'DELETE /api/rollouts/defaults', request: async () => ({}) },
  {
    op: 'POST /api/rollouts',
    // version 2 of the configuration, so the rollback has version 1 to go back to
    request: async (ctx) => {
      await created(ctx, `/api/configurations/${ctx.ids.config}/versions`, { yaml: YAML.replace('debug: {}', 'debug:\n    verbosity: basic') });
      const published = await ctx.api('POST', `/api/configurations/${ctx.ids.config}/versions/2/publish`);
      if (published.status !== 200) throw new Error(`set-up publish: ${published.status} ${JSON.stringify(published.body)}`);
      // a group of its own with the plain agent (nothing else pushed to it) and one more
      const group = await created(ctx, '/api/groups', { name: 'audit-rollout-group', kind: 'Static' });
      const members = await ctx.api('POST', `/api/groups/${group}/members`, { agentIds: [ctx.ids.agent5, ctx.ids.agent6] });
      if (members.status !== 200) throw new Error(`set-up members: ${members.status} ${JSON.stringify(members.body)}`);
      return { body: { name: 'audit-rollout', configurationId: ctx.ids.config, version: 2, groupId: group, strategy: { type: 'Batch', batchSize: 1 }, autoAdvance: false } };
    },
    after: keep('rollout'),
  },
  { op: 'POST /api/rollouts/{id}/start', request: async (ctx) => ({ params: id(ctx, 'rollout') }) },
  {
    op: 'POST /api/rollouts/{id}/pause',
    request: async (ctx) => {
      await rolloutUntil(ctx, 'settled its first step', settled);
      return { params: id(ctx, 'rollout') };
    },
  },
  { op: 'POST /api/rollouts/{id}/resume', request: async (ctx) => ({ params: id(ctx, 'rollout') }) },
  { op: 'POST /api/rollouts/{id}/extend', request: async (ctx) => ({ params: id(ctx, 'rollout'), body: { seconds: 60 } }) },
  {
    op: 'POST /api/rollouts/{id}/advance',
    request: async (ctx) => {
      await rolloutUntil(ctx, 'was InProgress with its step settled', (r) => r.state === 'InProgress' && settled(r));
      return { params: id(ctx, 'rollout') };
    },
  },
  { op: 'POST /api/rollouts/{id}/abort', request: async (ctx) => ({ params: id(ctx, 'rollout') }) },
  { op: 'POST /api/rollouts/{id}/rollback', request: async (ctx) => ({ params: id(ctx, 'rollout') }) },

  // the agents' own lifecycle, last of the fleet
  { op: 'POST /api/agents/{id}/disconnect', request: async (ctx) => ({ params: id(ctx, 'agent') }) },
  { op: 'POST /api/agents/bulk/disconnect', request: async (ctx) => ({ body: { agentIds: [ctx.ids.agent2] } }) },
  { op: 'DELETE /api/agents/{id}', request: async (ctx) => ({ params: id(ctx, 'agent3') }) },
  { op: 'POST /api/agents/bulk/delete', request: async (ctx) => ({ body: { agentIds: [ctx.ids.agent4] } }) },

  // PKI
  { op: 'POST /api/pki/agent-certificates', request: async () => ({ body: { csr: await csr() } }), after: keep('certificate') },
  { op: 'POST /api/pki/certificates/{id}/revoke', request: async (ctx) => ({ params: id(ctx, 'certificate') }) },
  {
    op: 'POST /api/agents/{id}/rotate-cert',
    request: async (ctx) => {
      await ctx.connectWithCertificate('agent');
      return { params: id(ctx, 'agent') };
    },
  },
  { op: 'POST /api/agents/{id}/revoke-cert', request: async (ctx) => ({ params: id(ctx, 'agent') }) },
  { op: 'POST /api/agents/bulk/revoke-cert', request: async (ctx) => ({ body: { agentIds: [ctx.ids.agent2] } }) },
  { op: 'POST /api/pki/signing-keys', request: async () => ({ body: { algorithm: 'ECDSA-P256', commonName: 'Audit CA' } }), after: keep('signingKey') },
  { op: 'POST /api/pki/signing-keys/{id}/retire', request: async (ctx) => ({ params: { id: await created(ctx, '/api/pki/signing-keys', { algorithm: 'ECDSA-P256' }) } }) },
  { op: 'POST /api/pki/signing-keys/{id}/activate', request: async (ctx) => ({ params: id(ctx, 'signingKey') }) },

  // lint rules
  { op: 'POST /api/lint-rules', request: async () => ({ body: { name: 'audit-rule', expression: 'true', severity: 'Info', status: 'Disabled' } }), after: keep('lintRule') },
  { op: 'PATCH /api/lint-rules/{id}', request: async (ctx) => ({ params: id(ctx, 'lintRule'), body: { description: 'audited' } }) },
  { op: 'POST /api/lint-rules/{id}/enable', request: async (ctx) => ({ params: id(ctx, 'lintRule') }) },
  { op: 'POST /api/lint-rules/{id}/disable', request: async (ctx) => ({ params: id(ctx, 'lintRule') }) },
  { op: 'DELETE /api/lint-rules/{id}', request: async (ctx) => ({ params: id(ctx, 'lintRule') }) },

  // policies and approvals: the deployment's admin authors, the second Admin decides
  { op: 'POST /api/policies', request: async () => ({ body: { name: 'audit-policy', expression: 'true' } }), after: keep('policy') },
  { op: 'PATCH /api/policies/{id}', request: async (ctx) => ({ params: id(ctx, 'policy'), body: { description: 'audited' } }) },
  { op: 'POST /api/policies/{id}/submit', request: async (ctx) => ({ params: id(ctx, 'policy') }) },
  { op: 'POST /api/policies/{id}/approve', request: async (ctx) => ({ params: id(ctx, 'policy'), body: {}, token: ctx.secondAdmin() }) },
  { op: 'POST /api/policies/{id}/disable', request: async (ctx) => ({ params: id(ctx, 'policy') }) },
  { op: 'POST /api/policies/{id}/reject', request: async (ctx) => ({ params: { id: await pendingPolicy(ctx, 'audit-rejected') }, body: { reason: 'not now' }, token: ctx.secondAdmin() }) },
  { op: 'POST /api/approvals/{id}/approve', request: async (ctx) => ({ params: { id: await approvalOf(ctx, await pendingPolicy(ctx, 'audit-approved')) }, body: {}, token: ctx.secondAdmin() }) },
  { op: 'POST /api/approvals/{id}/reject', request: async (ctx) => ({ params: { id: await approvalOf(ctx, await pendingPolicy(ctx, 'audit-refused')) }, body: { reason: 'not now' }, token: ctx.secondAdmin() }) },
  { op: 'PUT /api/policies/settings', request: async () => ({ body: { mode: 'shadow', exporterSwap: false, insecureTlsExporter: false } }) },

  // GitOps (no repository is reached: the calls change the source's record)
  {
    op: 'POST /api/gitops/sources',
    request: async () => ({ body: { name: 'audit-source', repositoryUrl: 'https://git.example.invalid/audit.git', pollIntervalSeconds: 3600 } }),
    after: keep('source'),
  },
  { op: 'PATCH /api/gitops/sources/{id}', request: async (ctx) => ({ params: id(ctx, 'source'), body: { pollIntervalSeconds: 1800 } }) },
  { op: 'POST /api/gitops/sources/{id}/pause', request: async (ctx) => ({ params: id(ctx, 'source') }) },
  { op: 'POST /api/gitops/sources/{id}/resume', request: async (ctx) => ({ params: id(ctx, 'source') }) },
  { op: 'POST /api/gitops/sources/{id}/sync', request: async (ctx) => ({ params: id(ctx, 'source') }) },
  { op: 'POST /api/gitops/sources/{id}/webhook-token', request: async (ctx) => ({ params: id(ctx, 'source') }) },
  { op: 'DELETE /api/gitops/sources/{id}/webhook-token', request: async (ctx) => ({ params: id(ctx, 'source') }) },
  { op: 'DELETE /api/gitops/sources/{id}', request: async (ctx) => ({ params: id(ctx, 'source') }) },

  // federation
  { op: 'POST /api/federation/certificates', request: async () => ({ body: { subject: 'audit-peer' } }) },
  { op: 'POST /api/federation/peers', request: async () => ({ body: { name: 'audit-peer', endpoint: 'https://peer.example.com:8443', pinnedThumbprint: 'ab'.repeat(32) } }), after: keep('peer') },
  { op: 'DELETE /api/federation/peers/{id}', request: async (ctx) => ({ params: id(ctx, 'peer') }) },
  // a federated rollout with this deployment as its one target, on a group of its own (no peer needed)
  {
    op: 'POST /api/rollouts/federated',
    request: async (ctx) => {
      await created(ctx, '/api/groups', { name: 'audit-federated-group', kind: 'Static' });
      return { body: { name: 'audit-federated', configurationId: ctx.ids.config, version: 1, groupName: 'audit-federated-group', targets: [{}] } };
    },
    after: keep('federated'),
  },
  { op: 'POST /api/rollouts/federated/{id}/pause', request: async (ctx) => ({ params: id(ctx, 'federated') }) },
  { op: 'POST /api/rollouts/federated/{id}/resume', request: async (ctx) => ({ params: id(ctx, 'federated') }) },
  { op: 'POST /api/rollouts/federated/{id}/abort', request: async (ctx) => ({ params: id(ctx, 'federated') }) },
  { op: 'POST /api/rollouts/federated/{id}/rollback', request: async (ctx) => ({ params: id(ctx, 'federated') }) },

  // approval rules last, Disabled: no start after them waits for anyone
  { op: 'POST /api/approval-rules', request: async () => ({ body: { name: 'audit-approval-rule', operation: 'rollout.start', status: 'Disabled' } }), after: keep('approvalRule') },
  { op: 'PATCH /api/approval-rules/{id}', request: async (ctx) => ({ params: id(ctx, 'approvalRule'), body: { description: 'audited' } }) },
  { op: 'POST /api/approval-rules/{id}/enable', request: async (ctx) => ({ params: id(ctx, 'approvalRule') }) },
  { op: 'POST /api/approval-rules/{id}/disable', request: async (ctx) => ({ params: id(ctx, 'approvalRule') }) },
  { op: 'DELETE /api/approval-rules/{id}', request: async (ctx) => ({ params: id(ctx, 'approvalRule') }) },
];

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../api';
import { Document, DocumentError, orderDocuments, parseDocuments } from '../domain/documents';
import { changedFields, Plan, planConfiguration, planFields, planLine, planRollout } from '../domain/plan';
import { CliError, ExitCode } from '../exit-codes';
import { findByName } from '../resources';

export type DryRun = 'none' | 'client' | 'server';
export interface ApplyOptions {
  publish: boolean;
  dryRun: DryRun;
  /** `ampora diff`: show what would change, change nothing. */
  diff: boolean;
}

type Out = (text: string) => void;
type Item = Record<string, any>;

/** Every document of the given files and directories (directories: their *.yaml and *.yml, recursively, in name order). */
export function readDocuments(paths: readonly string[]): Document[] {
  const files: string[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliError(`${p}: no such file or directory`, ExitCode.Usage);
    }
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) (statSync(join(p, e)).isDirectory() || /\.ya?ml$/.test(e)) && walk(join(p, e));
    else files.push(p);
  };
  paths.forEach(walk);
  try {
    return orderDocuments(files.flatMap((f) => parseDocuments(readFileSync(f, 'utf8'), f)));
  } catch (e) {
    if (e instanceof DocumentError) throw new CliError(e.message, ExitCode.Denied);
    throw e;
  }
}

interface Outcome {
  line: string;
  code: ExitCode;
  details?: string[];
}

/** Applies (or diffs, or dry-runs) the documents in dependency order; the exit code of the worst outcome. */
export async function applyDocuments(api: ApiClient, docs: readonly Document[], o: ApplyOptions, out: Out, err: Out): Promise<ExitCode> {
  let failed = false;
  let denied = false;
  for (const doc of docs) {
    let outcome: Outcome;
    try {
      outcome = await HANDLERS[doc.kind](api, doc, o);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      outcome = { line: `${doc.kind.toLowerCase()}/${doc.name} failed: ${e.message}`, code: e.code };
    }
    // a refused or failed document goes to stderr with its details (findings, denials)
    const to = outcome.code === ExitCode.Ok ? out : err;
    to(outcome.line + '\n');
    for (const d of outcome.details ?? []) to(d.endsWith('\n') ? d : d + '\n');
    if (outcome.code === ExitCode.Denied) denied = true;
    else if (outcome.code !== ExitCode.Ok) failed = true;
  }
  return failed ? ExitCode.Failed : denied ? ExitCode.Denied : ExitCode.Ok;
}

const dryLabel = (o: ApplyOptions) => (o.dryRun === 'none' ? null : o.dryRun);
const line = (doc: Document, plan: Plan, o: ApplyOptions) => (o.diff ? diffLine(doc, plan) : planLine(doc.kind, doc.name, plan, dryLabel(o)));
const writes = (o: ApplyOptions) => !o.diff && o.dryRun === 'none';

function diffLine(doc: Document, plan: Plan): string {
  const mark = plan.action === 'create' ? '+' : plan.action === 'update' ? '~' : '=';
  return `${mark} ${doc.kind.toLowerCase()}/${doc.name}${plan.action === 'unchanged' ? ' unchanged' : plan.action === 'create' ? ' would be created' : ` would change: ${plan.changes.join(', ')}`}`;
}

function findingLines(findings: Array<{ severity: string; code: string; message: string; path: string; line?: number }>): string[] {
  return findings.map((f) => `    ${f.severity} ${f.code} ${f.path}${f.line ? ` (line ${f.line})` : ''}: ${f.message}`);
}

const HANDLERS: Record<Document['kind'], (api: ApiClient, doc: Document, o: ApplyOptions) => Promise<Outcome>> = {
  async Configuration(api, doc, o) {
    const yaml = doc.spec.yaml as string;
    const description = doc.spec.description as string | undefined;
    const current = await findByName(api, '/api/configurations', doc.name);
    const latest = current && current.latestVersion > 0 ? await api.get(`/api/configurations/${current.id}/versions/${current.latestVersion}`) : null;
    const plan = planConfiguration({ yaml, description }, current ? { description: current.description, latestVersion: current.latestVersion, latest: latest && { yaml: latest.yaml, status: latest.status } } : null, o.publish);
    const newText = plan.action === 'create' || plan.changes.some((c) => c.startsWith('version'));
    if (o.diff || o.dryRun === 'server') {
      if (!newText) return { line: line(doc, plan, o), code: ExitCode.Ok };
      const check = await api.post('/api/configurations/check', { yaml, ...(current ? { configurationId: current.id } : {}) });
      const details = check.errorCount > 0 || o.dryRun === 'server' ? findingLines(check.findings) : [];
      if (o.diff && check.diff) {
        details.push(...(check.diff.semantic ?? []).map((c: { summary: string }) => `    * ${c.summary}`));
        if (check.diff.unified) details.push(check.diff.unified.replace(/\n$/, '').replace(/^/gm, '    '));
      }
      const code = check.errorCount > 0 && (o.publish || o.dryRun === 'server') ? ExitCode.Denied : ExitCode.Ok;
      return { line: line(doc, plan, o) + (check.errorCount ? ` — ${check.errorCount} error finding(s)` : ''), code, details };
    }
    if (!writes(o) || plan.action === 'unchanged') return { line: line(doc, plan, o), code: ExitCode.Ok };
    const c: Item = current ?? (await api.post('/api/configurations', { name: doc.name, ...(description !== undefined ? { description } : {}) }));
    if (current && plan.changes.includes('description')) await api.call('PATCH', `/api/configurations/${c.id}`, { description });
    let number = current?.latestVersion ?? 0;
    if (newText) {
      const v = await api.post(`/api/configurations/${c.id}/versions`, { yaml });
      number = v.number;
      if (v.errorCount > 0) return { line: `${line(doc, plan, o)} — version ${number} is a Draft with ${v.errorCount} error finding(s), not published`, code: ExitCode.Denied, details: findingLines(v.findings) };
    }
    if (o.publish && (newText || latest?.status === 'Draft')) await api.post(`/api/configurations/${c.id}/versions/${number}/publish`);
    return { line: line(doc, plan, o), code: ExitCode.Ok };
  },

  async Group(api, doc, o) {
    const s = doc.spec;
    const desired = { description: s.description, selector: s.selector, priority: s.priority };
    const kind = s.static === true || s.selector === undefined ? 'Static' : 'Dynamic';
    const current = await findByName(api, '/api/groups', doc.name);
    if (current && current.kind !== kind) throw new CliError(`group ${doc.name} is ${current.kind}; a group's kind does not change`, ExitCode.Denied);
    const plan = planFields(desired, current);
    let assignment: { configurationId: string; version: number } | null = null;
    if (s.assignment) {
      const a = s.assignment as { configuration: string; version?: number | 'latest' };
      assignment = await resolveVersion(api, a.configuration, a.version ?? 'latest', o);
      if (assignment && !(current?.assignment && current.assignment.configurationId === assignment.configurationId && current.assignment.version === assignment.version)) {
        plan.changes.push(`assignment v${assignment.version}`);
        if (plan.action === 'unchanged') plan.action = 'update';
      }
    }
    if (o.dryRun === 'server' && desired.selector !== undefined && plan.action !== 'unchanged') await api.post('/api/groups/preview', { selector: desired.selector, limit: 0 });
    if (!writes(o) || plan.action === 'unchanged') return { line: line(doc, plan, o), code: ExitCode.Ok };
    const defined = Object.fromEntries(Object.entries(desired).filter(([, v]) => v !== undefined));
    const group = current
      ? changedFields(desired, current).length
        ? await api.call('PATCH', `/api/groups/${current.id}`, Object.fromEntries(changedFields(desired, current).map((k) => [k, defined[k]])))
        : current
      : await api.post('/api/groups', { name: doc.name, kind, ...defined });
    if (assignment && plan.changes.some((c) => c.startsWith('assignment'))) {
      const r = await api.call('PUT', `/api/groups/${group.id}/assignment`, assignment);
      const denied = r.dispatch?.deniedByPolicyCount ?? 0;
      if (denied > 0) {
        const details = (r.dispatch.deniedByPolicy as Array<{ agentId: string; policyName: string; reason: string }>).map((d) => `    agent ${d.agentId} denied by ${d.policyName}: ${d.reason}`);
        return { line: `${line(doc, plan, o)} — ${denied} agent(s) denied by policy, not pushed`, code: ExitCode.Denied, details };
      }
    }
    return { line: line(doc, plan, o), code: ExitCode.Ok };
  },

  async Policy(api, doc, o) {
    return named(api, doc, o, '/api/policies', { description: doc.spec.description, expression: doc.spec.expression }, async (p) => {
      if (doc.spec.submit === true && (p.status === 'Draft' || p.status === 'Disabled')) await api.post(`/api/policies/${p.id}/submit`);
    });
  },

  async LintRule(api, doc, o) {
    const probe = await api.send('GET', '/api/lint-rules?limit=1');
    if (probe.status === 404) throw new CliError('this server has no lint rules (GET /api/lint-rules answered 404): upgrade the server to apply LintRule documents');
    if (probe.status >= 400) throw api.error('GET', '/api/lint-rules', probe);
    return named(api, doc, o, '/api/lint-rules', { description: doc.spec.description, expression: doc.spec.expression, severity: doc.spec.severity });
  },

  async GitSource(api, doc, o) {
    const { credentialFrom, ...fields } = doc.spec;
    return named(api, doc, o, '/api/gitops/sources', fields, undefined, () => (credentialFrom ? { credential: readCredential(credentialFrom as { env?: string; file?: string }) } : {}));
  },

  async Rollout(api, doc, o) {
    const s = doc.spec;
    const version = await resolveVersion(api, s.configuration as string, s.version as number | 'latest', o);
    const group = version ? await findByName(api, '/api/groups', s.group as string) : null;
    if (!version || !group) {
      // what it needs is created by this same apply: only a dry run or a diff gets here without it
      if (writes(o)) throw new CliError(`no group named ${JSON.stringify(s.group)}`, ExitCode.Denied);
      return { line: line(doc, { action: 'create', changes: [] }, o), code: ExitCode.Ok };
    }
    const desired = { configurationId: version.configurationId, version: version.version, groupId: group.id as string };
    const current = await findByName(api, '/api/rollouts', doc.name);
    const plan = planRollout(desired, current as typeof desired | null);
    if (plan.conflict) throw new CliError(plan.conflict, ExitCode.Denied);
    if (!writes(o) || plan.action === 'unchanged') return { line: line(doc, plan, o), code: ExitCode.Ok };
    const body: Item = { name: doc.name, ...desired };
    for (const k of ['strategy', 'gates', 'ordering', 'autoAdvance', 'dwellSeconds']) if (s[k] !== undefined) body[k] = s[k];
    const created = await api.post('/api/rollouts', body);
    // a tenant approval rule may hold the start (202 with the approval request's id, decision 0365)
    const started = s.start === true ? ((await api.post(`/api/rollouts/${created.id}/start`)) as Item | undefined) : undefined;
    const note = s.start !== true ? '' : typeof started?.approvalId === 'string' ? ` (start waits for approval ${started.approvalId})` : ' (started)';
    return { line: `${line(doc, plan, o)}${note} id ${created.id}`, code: ExitCode.Ok };
  },
};

/** A kind whose name is unique: create it, or PATCH the fields that differ. */
async function named(api: ApiClient, doc: Document, o: ApplyOptions, path: string, fields: Item, after?: (item: Item) => Promise<void>, secrets?: () => Item): Promise<Outcome> {
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const current = await findByName(api, path, doc.name);
  const plan = planFields(desired, current);
  if (!writes(o) || plan.action === 'unchanged') {
    if (current && after && writes(o)) await after(current);
    return { line: line(doc, plan, o), code: ExitCode.Ok };
  }
  const item = current
    ? await api.call('PATCH', `${path}/${current.id}`, Object.fromEntries(plan.changes.map((k) => [k, desired[k]])))
    : await api.post(path, { name: doc.name, ...desired, ...(secrets ? secrets() : {}) });
  if (after) await after(item);
  return { line: line(doc, plan, o), code: ExitCode.Ok };
}

/** A configuration name and a version number (or "latest": the highest Published one) as ids. */
async function resolveVersion(api: ApiClient, configuration: string, version: number | 'latest', o: ApplyOptions): Promise<{ configurationId: string; version: number } | null> {
  const c = await findByName(api, '/api/configurations', configuration);
  if (!c) {
    // created by this same apply: nothing to resolve until it exists
    if (!writes(o)) return null;
    throw new CliError(`no configuration named ${JSON.stringify(configuration)}`, ExitCode.Denied);
  }
  const n = version === 'latest' ? c.publishedVersion : version;
  if (!n) throw new CliError(`configuration ${configuration} has no Published version (apply it with --publish)`, ExitCode.Denied);
  return { configurationId: c.id, version: n };
}

function readCredential(from: { env?: string; file?: string }): string {
  if (from.env) {
    const v = process.env[from.env];
    if (!v) throw new CliError(`credentialFrom.env: ${from.env} is not set`, ExitCode.Usage);
    return v;
  }
  if (from.file) return readFileSync(from.file, 'utf8').trim();
  throw new CliError('credentialFrom needs env or file', ExitCode.Denied);
}

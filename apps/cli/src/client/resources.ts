import type { ApiClient } from './api';
import { age, Column, labelText } from './domain/output';
import { CliError, usageError } from './exit-codes';

type Item = Record<string, any>;

/** A resource `ampora get` lists: where, its table columns, and which live events change it. */
export interface Resource {
  name: string;
  aliases: string[];
  /** The list path; `versions` needs the configuration (`ampora get versions <configuration>`). */
  path: (parent?: string) => string;
  columns: Column<Item>[];
  live: string[];
  /** Found by name as well as by id. */
  byName: boolean;
  needsParent?: string;
}

const ageCol: Column<Item> = { header: 'AGE', value: (i, now) => age(i.createdAt, now) };
const idCol: Column<Item> = { header: 'ID', value: (i) => String(i.id ?? ''), wide: true };
const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export const RESOURCES: Resource[] = [
  {
    name: 'agents',
    aliases: ['agent', 'ag'],
    path: () => '/api/agents',
    byName: false,
    live: ['agent.*'],
    columns: [
      { header: 'ID', value: (i) => s(i.id) },
      { header: 'NAME', value: (i) => s(i.displayName) },
      { header: 'STATUS', value: (i) => s(i.status) },
      { header: 'HEALTHY', value: (i) => (i.healthy === null ? 'unknown' : i.healthy ? 'yes' : 'no') },
      { header: 'CONFIG', value: (i) => s(i.remoteConfigStatus) },
      { header: 'DRIFT', value: (i) => (i.drift === true ? 'drifted' : i.drift === false ? 'no' : s(i.drift)) },
      { header: 'TYPE', value: (i) => `${s(i.agentType)} ${s(i.agentVersion)}`.trim(), wide: true },
      { header: 'GROUP', value: (i) => s(i.groupId), wide: true },
      { header: 'LABELS', value: (i) => labelText(i.labels), wide: true },
      { header: 'LAST-SEEN', value: (i, now) => age(i.lastSeenAt, now) },
    ],
  },
  {
    name: 'groups',
    aliases: ['group', 'gr'],
    path: () => '/api/groups',
    byName: true,
    live: ['group.*'],
    columns: [
      { header: 'NAME', value: (i) => s(i.name) },
      { header: 'KIND', value: (i) => s(i.kind) },
      { header: 'MEMBERS', value: (i) => s(i.memberCount) },
      { header: 'ASSIGNED', value: (i) => (i.assignment ? `v${i.assignment.version}` : '') },
      idCol,
      { header: 'SELECTOR', value: (i) => s(i.selector), wide: true },
      { header: 'PRIORITY', value: (i) => s(i.priority), wide: true },
      ageCol,
    ],
  },
  {
    name: 'configurations',
    aliases: ['configuration', 'config', 'configs', 'cfg'],
    path: () => '/api/configurations',
    byName: true,
    live: ['configuration.*'],
    columns: [
      { header: 'NAME', value: (i) => s(i.name) },
      { header: 'LATEST', value: (i) => s(i.latestVersion) },
      { header: 'PUBLISHED', value: (i) => s(i.publishedVersion ?? '-') },
      { header: 'SOURCE', value: (i) => s(i.source) },
      idCol,
      ageCol,
    ],
  },
  {
    name: 'versions',
    aliases: ['version', 'ver'],
    path: (parent) => `/api/configurations/${parent}/versions`,
    byName: false,
    needsParent: 'configuration',
    live: ['configuration.*'],
    columns: [
      { header: 'VERSION', value: (i) => s(i.number) },
      { header: 'STATUS', value: (i) => s(i.status) },
      { header: 'ERRORS', value: (i) => s(i.errorCount) },
      { header: 'WARNINGS', value: (i) => s(i.warningCount) },
      { header: 'HASH', value: (i) => s(i.hash ?? i.contentHash).slice(0, 12) },
      idCol,
      ageCol,
    ],
  },
  {
    name: 'rollouts',
    aliases: ['rollout', 'ro'],
    path: () => '/api/rollouts',
    byName: true,
    live: ['rollout.*'],
    columns: [
      { header: 'NAME', value: (i) => s(i.name) },
      { header: 'STATE', value: (i) => s(i.state) },
      { header: 'STEP', value: (i) => (i.currentStep === null ? '-' : `${i.currentStep + 1}/${i.stepCount}`) },
      { header: 'APPLIED', value: (i) => (i.counts ? `${i.counts.applied}/${i.counts.total}` : '') },
      { header: 'VERSION', value: (i) => `v${s(i.version)}`, wide: true },
      idCol,
      ageCol,
    ],
  },
  {
    name: 'policies',
    aliases: ['policy', 'pol'],
    path: () => '/api/policies',
    byName: true,
    live: ['policy.*'],
    columns: [{ header: 'NAME', value: (i) => s(i.name) }, { header: 'STATUS', value: (i) => s(i.status) }, idCol, { header: 'EXPRESSION', value: (i) => s(i.expression), wide: true }, ageCol],
  },
  {
    name: 'tokens',
    aliases: ['token', 'pat'],
    path: () => '/api/tokens',
    byName: true,
    live: [],
    columns: [
      { header: 'NAME', value: (i) => s(i.name) },
      { header: 'ROLE', value: (i) => s(i.role) },
      { header: 'EXPIRES', value: (i) => s(i.expiresAt ?? 'never') },
      { header: 'LAST-USED', value: (i, now) => age(i.lastUsedAt, now) },
      { header: 'REVOKED', value: (i) => (i.revokedAt ? 'yes' : ''), wide: true },
      idCol,
      ageCol,
    ],
  },
  {
    name: 'bootstrap-tokens',
    aliases: ['bootstrap-token', 'bt'],
    path: () => '/api/bootstrap-tokens',
    byName: false,
    live: [],
    columns: [{ header: 'ID', value: (i) => s(i.id) }, { header: 'LABEL', value: (i) => s(i.label) }, { header: 'GROUP', value: (i) => s(i.groupId) }, ageCol],
  },
  {
    name: 'gitsources',
    aliases: ['gitsource', 'git-sources', 'gs'],
    path: () => '/api/gitops/sources',
    byName: true,
    live: ['gitops.*'],
    columns: [{ header: 'NAME', value: (i) => s(i.name) }, { header: 'REPOSITORY', value: (i) => s(i.repositoryUrl) }, { header: 'BRANCH', value: (i) => s(i.branch) }, { header: 'STATUS', value: (i) => s(i.status), wide: true }, idCol, ageCol],
  },
  {
    name: 'lint-rules',
    aliases: ['lint-rule', 'lintrules', 'lr'],
    path: () => '/api/lint-rules',
    byName: true,
    live: [],
    columns: [{ header: 'NAME', value: (i) => s(i.name) }, { header: 'SEVERITY', value: (i) => s(i.severity) }, idCol, { header: 'EXPRESSION', value: (i) => s(i.expression), wide: true }, ageCol],
  },
];

export const RESOURCE_NAMES = RESOURCES.map((r) => r.name);

export function findResource(word: string): Resource {
  const w = word.toLowerCase();
  const r = RESOURCES.find((x) => x.name === w || x.aliases.includes(w));
  if (!r) throw usageError(`unknown resource ${JSON.stringify(word)}: one of ${RESOURCE_NAMES.join(', ')}`);
  return r;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The item named `nameOrId` (by id, or by its name where names are unique), or null. */
export async function findByName(api: ApiClient, path: string, nameOrId: string): Promise<Item | null> {
  const items = await api.listAll<Item>(path);
  return items.find((i) => i.id === nameOrId) ?? items.find((i) => typeof i.name === 'string' && i.name.toLowerCase() === nameOrId.toLowerCase()) ?? null;
}

export async function requireByName(api: ApiClient, path: string, nameOrId: string, what: string): Promise<Item> {
  if (UUID.test(nameOrId)) {
    const r = await api.send('GET', `${path}/${nameOrId}`);
    if (r.status === 200) return r.body;
  }
  const found = await findByName(api, path, nameOrId);
  if (!found) throw new CliError(`no ${what} named ${JSON.stringify(nameOrId)}`);
  return found;
}

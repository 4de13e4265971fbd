/**
 * An agent's available components as the API shows them (pure): by kind (receivers, exporters, ...),
 * each component with the Go module and version that provide it where reported (`code.namespace`,
 * "module version" or "module@version"), from the tree the protocol layer stored.
 */
export interface ComponentNode {
  metadata: Record<string, unknown>;
  subComponents: Record<string, ComponentNode>;
}

export interface ComponentView {
  name: string;
  module: string | null;
  version: string | null;
  metadata: Record<string, unknown>;
  subComponents: string[];
}

export interface AvailableComponentsView {
  hash: string;
  components: string[];
  subComponents: Record<string, string[]>;
  byKind: Record<string, ComponentView[]>;
  tree: Record<string, ComponentNode>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The module and version a component's metadata names (`code.namespace`, else module/version keys). */
export function moduleOf(metadata: Record<string, unknown>): { module: string | null; version: string | null } {
  const ns = metadata['code.namespace'] ?? metadata['module'];
  let module: string | null = null;
  let version: string | null = typeof metadata['version'] === 'string' ? (metadata['version'] as string) : null;
  if (typeof ns === 'string' && ns.trim()) {
    const text = ns.trim();
    const m = /^(\S+?)(?:[ @]+(v?\d\S*))?$/.exec(text);
    module = m?.[1] ?? text;
    version = m?.[2] ?? version;
  }
  return { module, version };
}

function node(v: unknown): ComponentNode {
  if (!isRecord(v)) return { metadata: {}, subComponents: {} };
  const subs = isRecord(v.subComponents) ? v.subComponents : {};
  return { metadata: isRecord(v.metadata) ? v.metadata : {}, subComponents: Object.fromEntries(Object.entries(subs).map(([k, s]) => [k, node(s)])) };
}

/** The stored report → the API's view; reports stored before the tree was kept show names only. */
export function availableComponentsView(stored: unknown): AvailableComponentsView | null {
  if (!isRecord(stored)) return null;
  let tree: Record<string, ComponentNode>;
  if (isRecord(stored.tree)) tree = Object.fromEntries(Object.entries(stored.tree).map(([k, v]) => [k, node(v)]));
  else {
    const subs = isRecord(stored.subComponents) ? stored.subComponents : {};
    const kinds = Array.isArray(stored.components) ? stored.components.filter((c): c is string => typeof c === 'string') : Object.keys(subs);
    tree = Object.fromEntries(
      kinds.map((k) => [k, { metadata: {}, subComponents: Object.fromEntries((Array.isArray(subs[k]) ? (subs[k] as unknown[]) : []).filter((n): n is string => typeof n === 'string').map((n) => [n, { metadata: {}, subComponents: {} }])) }]),
    );
  }
  const kinds = Object.keys(tree).sort();
  const byKind: Record<string, ComponentView[]> = {};
  for (const kind of kinds) {
    byKind[kind] = Object.entries(tree[kind]!.subComponents)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => ({ name, ...moduleOf(n.metadata), metadata: n.metadata, subComponents: Object.keys(n.subComponents).sort() }));
  }
  return {
    hash: typeof stored.hash === 'string' ? stored.hash : '',
    components: kinds,
    subComponents: Object.fromEntries(kinds.map((k) => [k, Object.keys(tree[k]!.subComponents).sort()])),
    byKind,
    tree,
  };
}

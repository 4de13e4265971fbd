import { YamlLimits, YamlLimitViolation, aliasExpansionViolation, scanYamlLimits } from './yaml-limits';
import { Document, isMap, isScalar, isSeq, Node } from 'yaml';
import { AvailableComponents, canonicalComponentType, CollectorModel, Finding, ParsedConfig, Pipeline, PIPELINE_ROLES, Section, SECTIONS, SIGNALS, singular } from './collector-model';
import { Checker } from './config-checker';

export * from './collector-model';

/**
 * An OpenTelemetry Collector configuration as Ampora understands it: parsed from YAML (which is kept
 * byte-for-byte elsewhere; nothing here reformats it), checked, and compared. Pure: no Nest, no I/O.
 */

const TOP_LEVEL = new Set<string>([...SECTIONS, 'service']);
const PIPELINE_KEYS = new Set<string>(PIPELINE_ROLES);
/** `type` or `type/name` (the Collector's component id syntax). */
const COMPONENT_ID = /^[A-Za-z][A-Za-z0-9_]*(\/.+)?$/;
const PIPELINE_ID = new RegExp(`^(${SIGNALS.join('|')})(\\/.+)?$`);

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and checks a configuration: YAML syntax (with line and column), the Collector's structural
 * rules (every pipeline's components are defined, connectors are used on both sides, pipelines have
 * receivers and exporters), unused components (warnings), and, when given, the components an agent
 * reported it has.
 */
export function parseCollectorConfig(text: string, options: { available?: AvailableComponents; limits?: YamlLimits; scanned?: boolean; document?: boolean } = {}): ParsedConfig {
  const { limits } = options;
  // limits: nothing is parsed beyond them (decision 0130); `scanned` when the caller already ran the token scan
  if (limits && !options.scanned) {
    const limit = scanYamlLimits(text, limits);
    if (limit) return limitExceeded(limit);
  }
  const c = new Checker(text);
  for (const e of c.doc.errors) c.addAt('Error', 'YAML_SYNTAX', e.message, e.pos[0]);
  for (const w of c.doc.warnings) c.addAt('Warning', 'YAML_WARNING', w.message, w.pos[0]);
  if (c.doc.errors.length) return c.result();
  const duplicates = duplicateKeys(c.doc);
  for (const d of duplicates) c.addAt('Error', 'YAML_SYNTAX', d.message, d.offset);
  if (duplicates.length) return c.result();
  if (limits) {
    const limit = aliasExpansionViolation(c.doc, limits);
    if (limit) return limitExceeded(limit);
  }

  let value: unknown;
  try {
    value = c.doc.toJS({ maxAliasCount: limits ? -1 : 1000 });
  } catch (error) {
    c.add('Error', 'YAML_SYNTAX', error instanceof Error ? error.message : String(error), { path: '' });
    return c.result();
  }
  const root = c.doc.contents as Node | null;
  if (value === null || value === undefined) {
    c.add('Error', 'EMPTY_CONFIG', 'The configuration is empty', { path: '' });
    return c.result();
  }
  if (!isRecord(value)) {
    c.add('Error', 'NOT_A_MAP', 'A collector configuration is a map of receivers, processors, exporters, connectors, extensions and service', { path: '', node: root });
    return c.result();
  }

  const model: CollectorModel = {
    components: { receivers: {}, processors: {}, exporters: {}, connectors: {}, extensions: {} },
    pipelines: {},
    extensions: [],
    service: {},
    other: {},
  };

  for (const key of Object.keys(value)) {
    if (!TOP_LEVEL.has(key)) {
      model.other[key] = value[key];
      c.add('Error', 'UNKNOWN_SECTION', `Unknown top-level key "${key}": the Collector accepts only ${[...TOP_LEVEL].join(', ')}`, { path: key, node: c.keyNode(root, key) });
    }
  }

  for (const section of SECTIONS) {
    const v = value[section];
    if (v === undefined || v === null) continue;
    if (!isRecord(v)) {
      c.add('Error', 'NOT_A_MAP', `${section} must be a map of component ids to settings`, { path: section, node: c.child(root, section) });
      continue;
    }
    for (const [id, settings] of Object.entries(v)) {
      model.components[section][id] = settings;
      if (!COMPONENT_ID.test(id)) {
        c.add('Error', 'INVALID_COMPONENT_ID', `"${id}" is not a valid ${singular(section)} id (type or type/name)`, { path: `${section}.${id}`, node: c.keyNode(c.child(root, section), id) });
      }
    }
  }

  const serviceNode = c.child(root, 'service');
  const service = value.service;
  if (service === undefined || service === null) {
    c.add('Error', 'MISSING_PIPELINES', 'service.pipelines is missing: a collector needs at least one pipeline', { path: 'service', node: root });
  } else if (!isRecord(service)) {
    c.add('Error', 'NOT_A_MAP', 'service must be a map', { path: 'service', node: serviceNode });
  } else {
    for (const [k, v] of Object.entries(service)) if (k !== 'pipelines' && k !== 'extensions') model.service[k] = v;
    checkExtensions(c, model, service.extensions, serviceNode);
    checkPipelines(c, model, service.pipelines, serviceNode);
  }

  checkUsage(c, model, root);
  if (options.available) checkAvailable(c, model, options.available, root);
  const result = c.result(model);
  // the whole parsed document, for what reads more than the model (the tenant's lint rules): parsed once
  return options.document ? { ...result, document: value } : result;
}

/**
 * Keys repeated within one map ("Map keys must be unique", as the library says), found with one set
 * per map: linear, where the library's own check compares every pair. Merge keys (`<<`) may repeat.
 */
export function duplicateKeys(doc: Document): Array<{ message: string; offset: number }> {
  const out: Array<{ message: string; offset: number }> = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const item of node.items) {
        stack.push(item.key, item.value);
        if (!isScalar(item.key)) continue;
        const v = item.key.value;
        if (v === '<<') continue;
        const id = `${typeof v}:${String(v)}`;
        if (seen.has(id)) out.push({ message: 'Map keys must be unique', offset: item.key.range?.[0] ?? 0 });
        else seen.add(id);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return out;
}

function limitExceeded(limit: YamlLimitViolation): ParsedConfig {
  return { limit, findings: [{ severity: 'Error', code: 'LIMIT_EXCEEDED', message: limit.message, path: '' }] };
}

function checkExtensions(c: Checker, model: CollectorModel, extensions: unknown, serviceNode: Node | null | undefined): void {
  if (extensions === undefined || extensions === null) return;
  const node = c.child(serviceNode, 'extensions');
  if (!Array.isArray(extensions)) {
    c.add('Error', 'NOT_A_LIST', 'service.extensions must be a list of extension ids', { path: 'service.extensions', node });
    return;
  }
  const seen = new Set<string>();
  extensions.forEach((id, i) => {
    const at = { path: `service.extensions[${i}]`, node: c.item(node, i) };
    if (typeof id !== 'string') return c.add('Error', 'INVALID_COMPONENT_ID', 'an extension id must be a string', at);
    if (seen.has(id)) return c.add('Error', 'DUPLICATE_REFERENCE', `extension ${id} is listed twice in service.extensions`, at);
    seen.add(id);
    model.extensions.push(id);
    if (!(has(model.components.extensions, id))) c.add('Error', 'UNDEFINED_COMPONENT', `extension ${id} is enabled in service.extensions but not defined under extensions`, at);
  });
}

function checkPipelines(c: Checker, model: CollectorModel, pipelines: unknown, serviceNode: Node | null | undefined): void {
  const pipelinesNode = c.child(serviceNode, 'pipelines');
  if (pipelines === undefined || pipelines === null) {
    c.add('Error', 'MISSING_PIPELINES', 'service.pipelines is missing: a collector needs at least one pipeline', { path: 'service', node: serviceNode });
    return;
  }
  if (!isRecord(pipelines) || Object.keys(pipelines).length === 0) {
    c.add('Error', 'MISSING_PIPELINES', 'service.pipelines must be a map with at least one pipeline', { path: 'service.pipelines', node: pipelinesNode });
    return;
  }
  for (const [id, p] of Object.entries(pipelines)) {
    const path = `service.pipelines.${id}`;
    const pNode = c.child(pipelinesNode, id);
    if (!PIPELINE_ID.test(id)) c.add('Error', 'INVALID_PIPELINE_ID', `"${id}" is not a pipeline id: it must be ${SIGNALS.join(', ')} or one of them followed by /name`, { path, node: c.keyNode(pipelinesNode, id) });
    const pipeline: Pipeline = { receivers: [], processors: [], exporters: [] };
    model.pipelines[id] = pipeline;
    if (!isRecord(p)) {
      c.add('Error', 'NOT_A_MAP', `pipeline ${id} must be a map with receivers, processors and exporters`, { path, node: pNode });
      continue;
    }
    for (const k of Object.keys(p)) if (!PIPELINE_KEYS.has(k)) c.add('Error', 'UNKNOWN_KEY', `pipeline ${id} has an unknown key "${k}"`, { path: `${path}.${k}`, node: c.keyNode(pNode, k) });
    for (const role of PIPELINE_ROLES) {
      const list = p[role];
      const listNode = c.child(pNode, role);
      if (list === undefined || list === null) {
        if (role !== 'processors') c.add('Error', 'EMPTY_PIPELINE', `pipeline ${id} has no ${role}`, { path, node: pNode });
        continue;
      }
      if (!Array.isArray(list)) {
        c.add('Error', 'NOT_A_LIST', `${role} of pipeline ${id} must be a list of component ids`, { path: `${path}.${role}`, node: listNode });
        continue;
      }
      if (list.length === 0 && role !== 'processors') c.add('Error', 'EMPTY_PIPELINE', `pipeline ${id} has no ${role}`, { path: `${path}.${role}`, node: listNode });
      const listed = new Set<string>();
      list.forEach((ref, i) => {
        const at = { path: `${path}.${role}[${i}]`, node: c.item(listNode, i) };
        if (typeof ref !== 'string') return c.add('Error', 'INVALID_COMPONENT_ID', `${role} of pipeline ${id} must list component ids (strings)`, at);
        if (listed.has(ref)) return c.add('Error', 'DUPLICATE_REFERENCE', `${singular(role)} ${ref} is listed twice in pipeline ${id}`, at);
        listed.add(ref);
        pipeline[role].push(ref);
        const defined = has(model.components[role], ref) || (role !== 'processors' && has(model.components.connectors, ref));
        if (!defined) {
          const where = role === 'processors' ? 'processors' : `${role} or connectors`;
          c.add('Error', 'UNDEFINED_COMPONENT', `${singular(role)} ${ref} is used in pipeline ${id} but not defined under ${where}`, at);
        }
      });
    }
  }
}

function checkUsage(c: Checker, model: CollectorModel, root: Node | null): void {
  const used: Record<Section, Set<string>> = { receivers: new Set(), processors: new Set(), exporters: new Set(), connectors: new Set(), extensions: new Set(model.extensions) };
  const connectorAsExporter = new Set<string>();
  const connectorAsReceiver = new Set<string>();
  for (const p of Object.values(model.pipelines)) {
    for (const r of p.receivers) {
      if (has(model.components.receivers, r)) used.receivers.add(r);
      else if (has(model.components.connectors, r)) {
        used.connectors.add(r);
        connectorAsReceiver.add(r);
      }
    }
    for (const r of p.processors) used.processors.add(r);
    for (const e of p.exporters) {
      if (has(model.components.exporters, e)) used.exporters.add(e);
      else if (has(model.components.connectors, e)) {
        used.connectors.add(e);
        connectorAsExporter.add(e);
      }
    }
  }
  for (const section of SECTIONS) {
    for (const id of Object.keys(model.components[section])) {
      if (used[section].has(id)) continue;
      const how = section === 'extensions' ? 'not enabled in service.extensions' : 'not used by any pipeline';
      c.add('Warning', 'UNUSED_COMPONENT', `${singular(section)} ${id} is defined but ${how}`, { path: `${section}.${id}`, node: c.keyNode(c.child(root, section), id) });
    }
  }
  for (const id of Object.keys(model.components.connectors)) {
    const asExp = connectorAsExporter.has(id);
    const asRec = connectorAsReceiver.has(id);
    if (asExp !== asRec) {
      const missing = asExp ? 'as a receiver of another pipeline' : 'as an exporter of another pipeline';
      c.add('Error', 'DANGLING_CONNECTOR', `connector ${id} must also be used ${missing}`, { path: `connectors.${id}`, node: c.keyNode(c.child(root, 'connectors'), id) });
    }
  }
  for (const [id, p] of Object.entries(model.pipelines)) {
    if (p.processors.length > 0 && !p.processors.some((x) => x.split('/')[0] === 'memory_limiter')) {
      c.add('Info', 'NO_MEMORY_LIMITER', `pipeline ${id} has no memory_limiter processor (recommended first in every pipeline)`, { path: `service.pipelines.${id}.processors` });
    }
  }
}

function checkAvailable(c: Checker, model: CollectorModel, available: AvailableComponents, root: Node | null): void {
  for (const section of SECTIONS) {
    const list = available[section];
    if (!list) continue;
    const have = new Set(list.map(canonicalComponentType));
    for (const id of Object.keys(model.components[section])) {
      const type = id.split('/')[0]!;
      if (!have.has(canonicalComponentType(type))) {
        c.add('Warning', 'COMPONENT_UNAVAILABLE', `the agent does not report ${singular(section)} ${type} among its available components`, { path: `${section}.${id}`, node: c.keyNode(c.child(root, section), id) });
      }
    }
  }
}

/** The agent's reported catalogue (`{ components: [...], subComponents: { receivers: [...] } }`) in section form. */
export function availableFromReport(report: unknown): AvailableComponents | undefined {
  if (!isRecord(report) || !isRecord(report.subComponents)) return undefined;
  const out: AvailableComponents = {};
  for (const section of SECTIONS) {
    const list = report.subComponents[section];
    if (Array.isArray(list)) out[section] = list.filter((x): x is string => typeof x === 'string');
  }
  return Object.keys(out).length ? out : undefined;
}

export const hasErrors = (findings: Finding[]): boolean => findings.some((f) => f.severity === 'Error');


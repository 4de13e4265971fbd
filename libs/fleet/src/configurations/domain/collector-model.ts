import type { YamlLimitViolation } from './yaml-limits';

/** The shapes of a parsed Collector configuration and its findings (pure types and constants). */

export type Severity = 'Error' | 'Warning' | 'Info';

export interface Finding {
  severity: Severity;
  /** Stable rule id: YAML_SYNTAX, UNDEFINED_COMPONENT, UNUSED_COMPONENT, ... */
  code: string;
  message: string;
  /** Where in the document: `service.pipelines.traces.exporters[1]` ('' for the whole document). */
  path: string;
  /** 1-based line and column of the offending node, when it can be located. */
  line?: number;
  column?: number;
  /** The tenant lint rule that reported it (code LINT_RULE, decision 0300). */
  rule?: { id: string; name: string };
}

export const SECTIONS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
export type Section = (typeof SECTIONS)[number];
export const SIGNALS = ['traces', 'metrics', 'logs', 'profiles'] as const;
export const PIPELINE_ROLES = ['receivers', 'processors', 'exporters'] as const;
export type PipelineRole = (typeof PIPELINE_ROLES)[number];

const SINGULAR: Record<Section, string> = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', connectors: 'connector', extensions: 'extension' };
export const singular = (s: Section | PipelineRole): string => SINGULAR[s];

/**
 * Component types a Collector runs under two names, a deprecated alias and the type its catalogue
 * reports: contrib v0.158.0 reports `otlp_http` and still runs configurations that say `otlphttp`.
 * Availability is judged on the canonical name, so neither spelling is reported missing.
 */
const COMPONENT_TYPE_ALIASES: Readonly<Record<string, string>> = { otlphttp: 'otlp_http' };
export const canonicalComponentType = (type: string): string => COMPONENT_TYPE_ALIASES[type] ?? type;

/** Components an agent reported it has (ReportsAvailableComponents), by section: `{ processors: ['batch', ...] }`. */
export type AvailableComponents = Partial<Record<Section, string[]>>;

export interface Pipeline {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

/** The parts of a config the semantic checks and diffs work on. */
export interface CollectorModel {
  components: Record<Section, Record<string, unknown>>;
  pipelines: Record<string, Pipeline>;
  extensions: string[];
  /** The rest of `service` (telemetry, ...). */
  service: Record<string, unknown>;
  /** Top-level keys Ampora does not know. */
  other: Record<string, unknown>;
}

export interface ParsedConfig {
  /** Undefined when the text is not valid YAML (the findings say why). */
  model?: CollectorModel;
  findings: Finding[];
  /** The parsed document as plain data, when asked for (`document: true`) and the text parsed to a map. */
  document?: unknown;
  /** The limit the text exceeds (then there is no model, and the text must not be accepted). */
  limit?: YamlLimitViolation;
}

/** Findings kept per text: beyond them, one Info finding counts the rest (a text cannot make its findings unbounded). */
export const MAX_FINDINGS = 200;

import { parseCollectorConfig } from './collector-config';
import { SemanticChange, semanticDiff } from './semantic-diff';
import { unifiedDiff } from './text-diff';
import type { YamlLimits } from './yaml-limits';

export interface ConfigDiff {
  identical: boolean;
  unified: string;
  /** Null when either side is not a valid configuration (its text diff still is). */
  semantic: SemanticChange[] | null;
}

/** Textual and semantic differences between two configuration texts. */
export function configDiff(from: string, to: string, labels: { from: string; to: string }, limits?: YamlLimits): ConfigDiff {
  const a = parseCollectorConfig(from, { limits }).model;
  const b = parseCollectorConfig(to, { limits }).model;
  return { identical: from === to, unified: unifiedDiff(from, to, labels), semantic: a && b ? semanticDiff(a, b) : null };
}

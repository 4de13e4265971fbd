import type { Pattern } from './regex/pattern';

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * One step of a path. A dotted run (`service.name`) is kept whole: at evaluation, the longest run
 * of its parts that is a key of the current map is taken first (`service.name` as one label key),
 * then shorter ones (`service` → `name`). A bracketed step (`["k8s.io/app"]`, `[0]`) is exact.
 */
export type PathStep = { kind: 'dotted'; parts: string[] } | { kind: 'key'; key: string } | { kind: 'index'; index: number };

export type ValueNode =
  | { type: 'literal'; pos: number; value: string | number | boolean | null }
  | { type: 'path'; pos: number; text: string; steps: PathStep[] }
  | { type: 'call'; pos: number; name: string; args: ValueNode[]; pattern?: Pattern };

export type BoolNode =
  | { type: 'or'; pos: number; items: BoolNode[] }
  | { type: 'and'; pos: number; items: BoolNode[] }
  | { type: 'not'; pos: number; expr: BoolNode }
  | { type: 'compare'; pos: number; op: CompareOp; left: ValueNode; right: ValueNode }
  | { type: 'in'; pos: number; value: ValueNode; items: ValueNode[] }
  | { type: 'matches'; pos: number; value: ValueNode; pattern: Pattern }
  | { type: 'has-key'; pos: number; value: ValueNode; key: string }
  /** A value used as a condition: it must evaluate to a boolean. */
  | { type: 'test'; pos: number; value: ValueNode };

import { Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Node, Pair, parseDocument, YAMLMap } from 'yaml';
import { CollectorModel, Finding, MAX_FINDINGS, ParsedConfig, Severity } from './collector-model';

/** Where a finding is: its path in the config and, when known, the YAML node (for line and column). */
export type Located = { path: string; node?: Node | null };

/**
 * One configuration text being checked: the parsed YAML document, node lookups by key (aliases
 * resolved), and the findings with their line and column, at most MAX_FINDINGS of them.
 */
export class Checker {
  readonly findings: Finding[] = [];
  /** Findings beyond MAX_FINDINGS, counted but not kept. */
  dropped = 0;
  private readonly lines = new LineCounter();
  readonly doc: Document.Parsed;

  /** Scalar keys of each map node, indexed once (lookups stay linear over the whole check). */
  private readonly keys = new WeakMap<object, Map<string, Pair>>();

  constructor(text: string) {
    // uniqueKeys off: the library checks it pairwise (quadratic in a map's size); duplicateKeys() does it with a set
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, merge: true, uniqueKeys: false, strict: true });
  }

  private index(map: YAMLMap): Map<string, Pair> {
    let index = this.keys.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      this.keys.set(map, index);
    }
    return index;
  }

  add(severity: Severity, code: string, message: string, at: Located): void {
    if (this.full()) return;
    const f: Finding = { severity, code, message, path: at.path };
    const range = at.node?.range;
    if (range) {
      const p = this.lines.linePos(range[0]);
      f.line = p.line;
      f.column = p.col;
    }
    this.findings.push(f);
  }

  addAt(severity: Severity, code: string, message: string, offset: number, path = ''): void {
    if (this.full()) return;
    const p = this.lines.linePos(offset);
    this.findings.push({ severity, code, message, path, line: p.line, column: p.col });
  }

  private full(): boolean {
    if (this.findings.length < MAX_FINDINGS) return false;
    this.dropped += 1;
    return true;
  }

  /** The findings, with the count of those left out. */
  result(model?: CollectorModel): ParsedConfig {
    const findings = this.dropped ? [...this.findings, { severity: 'Info' as const, code: 'MORE_FINDINGS', message: `${this.dropped} more findings are not listed`, path: '' }] : this.findings;
    return model ? { model, findings } : { findings };
  }

  deref(node: unknown): Node | null | undefined {
    if (isAlias(node)) return node.resolve(this.doc) as Node | undefined;
    return node as Node | null | undefined;
  }

  /** The value node under `key` in a map node (aliases resolved; keys from `<<` merges are not located). */
  child(map: Node | null | undefined, key: string): Node | null | undefined {
    const m = this.deref(map);
    if (!isMap(m)) return undefined;
    const pair = this.index(m).get(key);
    return pair ? ((pair.value as Node | null) ?? null) : undefined;
  }

  keyNode(map: Node | null | undefined, key: string): Node | undefined {
    const m = this.deref(map);
    if (!isMap(m)) return undefined;
    return (this.index(m).get(key)?.key as Node | undefined) ?? undefined;
  }

  item(seq: Node | null | undefined, index: number): Node | undefined {
    const s = this.deref(seq);
    return isSeq(s) ? ((s.items[index] as Node | undefined) ?? undefined) : undefined;
  }
}

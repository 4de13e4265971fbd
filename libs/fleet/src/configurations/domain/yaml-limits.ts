import { CST, Document, isAlias, isMap, isPair, isScalar, isSeq, Lexer } from 'yaml';

/**
 * The bounds of a YAML text Ampora accepts for parsing (decision 0130): checked BEFORE the parse, by
 * a scan that cannot itself blow up. The scan runs the `yaml` library's own lexer (a flat state
 * machine: no recursion, no pattern built from the input), so it sees exactly the tokens the parser
 * would, and stops at the first limit exceeded: a 100,000-deep `[[[[...` is refused after 65 tokens.
 * Memory is bounded by the depth limit. Pure: no Nest, no I/O.
 */
export interface YamlLimits {
  /** UTF-8 bytes. */
  maxBytes: number;
  /** Nesting of block and flow collections. */
  maxDepth: number;
  /** Keys, values and list items (scalars, aliases, collections). */
  maxNodes: number;
  /** Alias references (`*name`). */
  maxAliases: number;
  /** Nodes once aliases are expanded (checked on the parsed document, before it is turned into values). */
  maxAliasExpansion: number;
  /** Lexical tokens: the work measure of one parse. */
  maxTokens: number;
}

export type YamlLimit = 'size' | 'depth' | 'nodes' | 'aliases' | 'alias_expansion' | 'tokens';

export interface YamlLimitViolation {
  limit: YamlLimit;
  max: number;
  message: string;
}

const violation = (limit: YamlLimit, max: number, message: string): YamlLimitViolation => ({ limit, max, message });

/** Zero-width markers the lexer emits that are not in the source. */
const VIRTUAL = new Set<string>([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

/** Token-by-token limit checks; `push` returns the first violation. */
class LimitScanner {
  private tokens = 0;
  private nodes = 0;
  private aliases = 0;
  private flowDepth = 0;
  /** Columns of the open block collections (strictly increasing). */
  private readonly blocks: number[] = [];
  private column = 0;
  private scalarBody = false;
  /** Column of the last node that started outside flow collections on the current line (a key candidate). */
  private lineNodeColumn = -1;

  constructor(private readonly limits: YamlLimits) {}

  push(token: string): YamlLimitViolation | undefined {
    const { limits } = this;
    if (++this.tokens > limits.maxTokens) return violation('tokens', limits.maxTokens, `the configuration is too complex to analyse (more than ${limits.maxTokens} tokens)`);
    const at = this.column;
    this.advance(token);
    if (this.scalarBody) {
      this.scalarBody = false;
      return undefined;
    }
    switch (CST.tokenType(token)) {
      case 'scalar':
        this.scalarBody = true;
        return this.node(at);
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
        return this.node(at);
      case 'alias':
        if (++this.aliases > limits.maxAliases) return violation('aliases', limits.maxAliases, `the configuration has more than ${limits.maxAliases} aliases`);
        return this.node(at);
      case 'flow-map-start':
      case 'flow-seq-start': {
        const v = this.node(at);
        if (v) return v;
        this.flowDepth++;
        return this.depth();
      }
      case 'flow-map-end':
      case 'flow-seq-end':
        if (this.flowDepth > 0) this.flowDepth--;
        return undefined;
      case 'seq-item-ind':
      case 'explicit-key-ind':
        return this.flowDepth === 0 ? this.block(at) : undefined;
      case 'map-value-ind':
        return this.flowDepth === 0 ? this.block(this.lineNodeColumn >= 0 ? this.lineNodeColumn : at) : undefined;
      case 'doc-start':
      case 'doc-end':
        this.blocks.length = 0;
        this.flowDepth = 0;
        return undefined;
      default:
        return undefined;
    }
  }

  private advance(token: string): void {
    if (VIRTUAL.has(token)) return;
    const nl = token.lastIndexOf('\n');
    if (nl >= 0) {
      this.column = token.length - nl - 1;
      this.lineNodeColumn = -1;
    } else this.column += token.length;
  }

  private node(at: number): YamlLimitViolation | undefined {
    if (this.flowDepth === 0 && this.lineNodeColumn < 0) this.lineNodeColumn = at;
    if (++this.nodes > this.limits.maxNodes) return violation('nodes', this.limits.maxNodes, `the configuration has more than ${this.limits.maxNodes} keys, values and list items`);
    return undefined;
  }

  /** A block collection entry (`- `, `? `, or a key's `:`) at a column: deeper columns open a collection. */
  private block(column: number): YamlLimitViolation | undefined {
    const b = this.blocks;
    while (b.length > 0 && b[b.length - 1]! > column) b.pop();
    if (b.length === 0 || b[b.length - 1]! < column) {
      b.push(column);
      const v = this.node(column);
      if (v) return v;
    }
    // the next node on this line (a compact `- - x` or `- key: v`) starts a key of its own
    this.lineNodeColumn = -1;
    return this.depth();
  }

  private depth(): YamlLimitViolation | undefined {
    const d = this.blocks.length + this.flowDepth;
    if (d > this.limits.maxDepth) return violation('depth', this.limits.maxDepth, `the configuration nests more than ${this.limits.maxDepth} levels deep`);
    return undefined;
  }
}

function sizeViolation(text: string, limits: YamlLimits): YamlLimitViolation | undefined {
  // a UTF-8 byte is at least one UTF-16 unit: over the limit in units is over it in bytes, without counting
  if (text.length > limits.maxBytes || Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    return violation('size', limits.maxBytes, `the configuration is larger than ${limits.maxBytes} bytes`);
  }
  return undefined;
}

/** The first limit a YAML text exceeds (size, depth, nodes, aliases, tokens), or undefined. Synchronous. */
export function scanYamlLimits(text: string, limits: YamlLimits): YamlLimitViolation | undefined {
  const tooLarge = sizeViolation(text, limits);
  if (tooLarge) return tooLarge;
  const scanner = new LimitScanner(limits);
  for (const token of new Lexer().lex(text)) {
    const v = scanner.push(token);
    if (v) return v;
  }
  return undefined;
}

/** Tokens scanned between two yields to the event loop. */
export const SCAN_SLICE_TOKENS = 1000;

/**
 * The same scan, giving the event loop back every `SCAN_SLICE_TOKENS` tokens, so that scanning the
 * largest text allowed never holds other requests (heartbeats) for more than a slice.
 */
export async function scanYamlLimitsAsync(text: string, limits: YamlLimits, sliceTokens = SCAN_SLICE_TOKENS): Promise<YamlLimitViolation | undefined> {
  const tooLarge = sizeViolation(text, limits);
  if (tooLarge) return tooLarge;
  const scanner = new LimitScanner(limits);
  const tokens = new Lexer().lex(text);
  for (;;) {
    for (let i = 0; i < sliceTokens; i++) {
      const next = tokens.next();
      if (next.done) return undefined;
      const v = scanner.push(next.value);
      if (v) return v;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * How many nodes a parsed document has once its aliases are expanded, checked against
 * `maxAliasExpansion` in one walk in document order (an alias counts the size of its anchor's node,
 * recorded when that node was walked), so a "billion laughs" is refused in time linear in the text.
 * An alias to an enclosing node (a cycle) is refused as well.
 */
export function aliasExpansionViolation(doc: Document, limits: Pick<YamlLimits, 'maxAliasExpansion' | 'maxDepth'>): YamlLimitViolation | undefined {
  const max = limits.maxAliasExpansion;
  const anchors = new Map<string, number>();
  const open = new Set<string>();
  let total = 0;
  let cycle = false;
  const tooMany = () => violation('alias_expansion', max, `the configuration expands to more than ${max} nodes through its aliases`);

  const size = (node: unknown, depth: number): number => {
    if (total > max || cycle || depth > limits.maxDepth + 2) return 0;
    if (isAlias(node)) {
      if (open.has(node.source)) {
        cycle = true;
        return 0;
      }
      const n = anchors.get(node.source) ?? 1;
      total += n;
      return n;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) open.add(anchor);
    let n = 1;
    total += 1;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items as unknown[]) n += size(item, depth + 1);
    } else if (isPair(node)) {
      n = size(node.key, depth) + size(node.value, depth);
      total -= 1;
    } else if (!isScalar(node)) {
      n = 0;
      total -= 1;
    }
    if (anchor) {
      open.delete(anchor);
      anchors.set(anchor, n);
    }
    return n;
  };

  size(doc.contents, 0);
  if (cycle) return violation('alias_expansion', max, 'an alias of the configuration refers to a node that contains it');
  return total > max ? tooMany() : undefined;
}

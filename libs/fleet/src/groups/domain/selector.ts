import { CompileResult, Expression } from '@ampora/dsl';

/**
 * Dynamic group selectors are Ampora-language expressions evaluated against an agent's labels: its
 * description attributes (identifying and non-identifying) merged with its Ampora-side tags, label
 * keys used directly as paths (`service.name = "checkout"`, `region in ("eu-1", "eu-2")`).
 */
export function compileSelector(source: string): CompileResult {
  return Expression.compile(source);
}

/** What a selector sees of an agent. */
export function selectorContext(labels: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return labels ?? {};
}

/**
 * The first group of `ordered` (already in tie-break order: priority, then age) whose selector
 * matches, or null. A selector that fails (missing label, wrong type, deadline) does not match.
 */
export function chooseGroup<G extends { id: string; expression: Expression }>(
  ordered: G[],
  context: Record<string, unknown>,
  observe?: (group: G, ms: number, failed: string | undefined) => void,
  clock: () => number = () => performance.now(),
): G | null {
  for (const g of ordered) {
    const start = observe ? clock() : 0;
    const result = g.expression.evaluate(context);
    if (observe) observe(g, clock() - start, result.error?.kind);
    if (result.matched) return g;
  }
  return null;
}

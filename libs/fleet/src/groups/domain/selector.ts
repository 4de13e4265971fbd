import { CompileResult, Expression } from '@ampora/dsl';

/**
 * Dynamic group selectors are Ampora-language expressions evaluated against an agent's labels: its
 * description attributes (identifying and non-identifying) merged with its Ampora-side tags, label
 * keys used directly as paths (`service.name = "checkout"`, `region in ("eu-1", "eu-2")`).
 */
export function compileSelector(source: string): CompileResult {
  return Expression.compile(source);
}

/** The selector namespace of operator tags (`tag.team = "payments"`). */
export const TAG_NAMESPACE = 'tag';

/**
 * What a selector sees of an agent: its labels, and its operator tags under `tag` (`tag.team`). The
 * `tag` namespace is reserved: a label named `tag` or `tag.<something>` (an attribute the agent
 * reports) is not visible to selectors, so `tag.*` always means the operator's tags.
 */
export function selectorContext(labels: Record<string, unknown> | null | undefined, tags: Record<string, string> | null | undefined = {}): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(labels ?? {})) if (key !== TAG_NAMESPACE && !key.startsWith(`${TAG_NAMESPACE}.`)) context[key] = value;
  context[TAG_NAMESPACE] = { ...(tags ?? {}) };
  return context;
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

/** Rollout strategies and their defaults (pure). */
export type StrategyType = 'Batch' | 'Percentage' | 'Canary';

export interface CanaryStep {
  percent: number;
  dwellSeconds: number;
}

export type Strategy =
  | { type: 'Batch'; batchSize: number }
  | { type: 'Percentage'; steps: number[] }
  | { type: 'Canary'; steps: CanaryStep[] };

export const STRATEGY_DEFAULTS = {
  batchSize: 5,
  percentage: [5, 25, 50, 100],
  canary: [
    { percent: 5, dwellSeconds: 300 },
    { percent: 25, dwellSeconds: 600 },
    { percent: 50, dwellSeconds: 1800 },
    { percent: 100, dwellSeconds: 0 },
  ] as CanaryStep[],
} as const;

export interface StrategyInput {
  type: StrategyType;
  batchSize?: number;
  steps?: Array<number | CanaryStep>;
}

export interface StrategyProblem {
  field: string;
  message: string;
}

/** Fills defaults and checks the rules; returns the strategy or every problem found. */
export function normalizeStrategy(input: StrategyInput): { ok: true; strategy: Strategy } | { ok: false; problems: StrategyProblem[] } {
  const problems: StrategyProblem[] = [];
  if (input.type === 'Batch') {
    const batchSize = input.batchSize ?? STRATEGY_DEFAULTS.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1) problems.push({ field: 'strategy.batchSize', message: 'must be a whole number of at least 1' });
    if (input.steps !== undefined) problems.push({ field: 'strategy.steps', message: 'a Batch strategy has no steps; use batchSize' });
    return problems.length ? { ok: false, problems } : { ok: true, strategy: { type: 'Batch', batchSize } };
  }
  if (input.batchSize !== undefined) problems.push({ field: 'strategy.batchSize', message: `a ${input.type} strategy has steps, not a batch size` });
  if (input.type === 'Percentage') {
    const steps = input.steps ?? [...STRATEGY_DEFAULTS.percentage];
    if (steps.some((s) => typeof s !== 'number')) problems.push({ field: 'strategy.steps', message: 'Percentage steps are plain numbers' });
    else checkPercents(steps as number[], problems);
    return problems.length ? { ok: false, problems } : { ok: true, strategy: { type: 'Percentage', steps: steps as number[] } };
  }
  const steps = input.steps ?? STRATEGY_DEFAULTS.canary.map((s) => ({ ...s }));
  if (steps.some((s) => typeof s !== 'object' || s === null)) {
    problems.push({ field: 'strategy.steps', message: 'Canary steps are { percent, dwellSeconds }' });
    return { ok: false, problems };
  }
  const canary = steps as CanaryStep[];
  checkPercents(
    canary.map((s) => s.percent),
    problems,
  );
  canary.forEach((s, i) => {
    if (!Number.isInteger(s.dwellSeconds) || s.dwellSeconds < 0) problems.push({ field: `strategy.steps.${i}.dwellSeconds`, message: 'must be a whole number of seconds, 0 or more' });
  });
  return problems.length ? { ok: false, problems } : { ok: true, strategy: { type: 'Canary', steps: canary.map((s) => ({ percent: s.percent, dwellSeconds: s.dwellSeconds })) } };
}

function checkPercents(steps: number[], problems: StrategyProblem[]): void {
  if (steps.length === 0) {
    problems.push({ field: 'strategy.steps', message: 'needs at least one step' });
    return;
  }
  steps.forEach((p, i) => {
    if (!(p > 0 && p <= 100)) problems.push({ field: `strategy.steps.${i}`, message: 'a percentage is above 0 and at most 100' });
    if (i > 0 && p <= steps[i - 1]!) problems.push({ field: `strategy.steps.${i}`, message: 'steps must grow' });
  });
  if (steps[steps.length - 1] !== 100) problems.push({ field: `strategy.steps.${steps.length - 1}`, message: 'the last step must be 100' });
}

/** How many steps a strategy has for a group of `size` agents (batches depend on the size). */
export function stepCount(strategy: Strategy, size: number): number {
  if (strategy.type === 'Batch') return Math.max(1, Math.ceil(size / strategy.batchSize));
  return strategy.steps.length;
}

/** Seconds to wait after a step settled before the next one starts automatically (0: at once). */
export function dwellAfter(strategy: Strategy, stepIndex: number, fallbackDwellSeconds: number): number {
  if (strategy.type === 'Canary') return strategy.steps[stepIndex]?.dwellSeconds ?? 0;
  return fallbackDwellSeconds;
}

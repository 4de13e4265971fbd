import fc from 'fast-check';
import { CLOCK_CHECK_INTERVAL, Expression, FUNCTIONS } from './index';

/**
 * Property: whatever the input, the evaluator answers (never throws), answers a boolean, fails
 * closed with a known reason, and never runs past its deadline. Time is a fake clock that advances
 * one millisecond each time it is read, so "past the deadline" is measured in work, deterministically:
 * with a 50 ms deadline the clock can be read about 50 times, and between two reads at most
 * CLOCK_CHECK_INTERVAL units of work are done (plus one atomic step: a string builtin, say).
 */
const DEADLINE_MS = 50;
const MAX_WORK_AFTER_DEADLINE = CLOCK_CHECK_INTERVAL * 2;

function fakeClock() {
  let t = 0;
  return () => t++;
}

const KINDS = new Set(['parse', 'limit', 'type', 'missing', 'deadline']);

const key = fc.constantFrom('region', 'service.name', 'tier', 'n', 'flag', 'list', 'm', 'nothing', 'm.k', 'big');
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -5, max: 5 }), fc.boolean(), fc.constant(null));
const literal = scalar.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
const pattern = fc.constantFrom('.*', 'a+', '(a*)*b', '(a|aa)+b', '[a-z]+', '(?i)EU-.*', '(x+x+)+y', '\\d{1,3}', '(.*a){10}b');

/** Syntactically plausible expressions built from the grammar (many are still type or path errors). */
const expression: fc.Arbitrary<string> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    literal,
    key,
    fc.tuple(fc.constantFrom(...Object.keys(FUNCTIONS).filter((f) => !FUNCTIONS[f]!.pathArg)), fc.array(tie('value') as fc.Arbitrary<string>, { minLength: 1, maxLength: 2 })).map(([f, args]) => `${f}(${args.join(', ')})`),
    fc.tuple(fc.constantFrom('exists', 'default'), key, literal).map(([f, k, l]) => (f === 'exists' ? `exists(${k})` : `default(${k}, ${l})`)),
  ),
  cond: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(tie('value') as fc.Arbitrary<string>, fc.constantFrom('=', '!=', '<', '<=', '>', '>='), tie('value') as fc.Arbitrary<string>).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie('value') as fc.Arbitrary<string>, fc.array(literal, { minLength: 1, maxLength: 3 })).map(([v, items]) => `${v} in (${items.join(', ')})`),
    fc.tuple(tie('value') as fc.Arbitrary<string>, pattern).map(([v, p]) => `${v} matches ${JSON.stringify(p)}`),
    fc.tuple(tie('value') as fc.Arbitrary<string>, key).map(([v, k]) => `${v} has-key ${k}`),
    tie('value') as fc.Arbitrary<string>,
  ),
  expr: fc.oneof(
    { depthSize: 'small' },
    tie('cond') as fc.Arbitrary<string>,
    fc.tuple(tie('expr') as fc.Arbitrary<string>, fc.constantFrom('and', 'or'), tie('expr') as fc.Arbitrary<string>).map(([a, op, b]) => `${a} ${op} ${b}`),
    (tie('expr') as fc.Arbitrary<string>).map((e) => `not ${e}`),
    (tie('expr') as fc.Arbitrary<string>).map((e) => `(${e})`),
  ),
})).expr as fc.Arbitrary<string>;

const context = fc.record(
  {
    region: fc.oneof(fc.constant('eu-central-1'), fc.string({ maxLength: 20 }), fc.integer()),
    'service.name': fc.oneof(fc.string({ maxLength: 20 }), fc.constant('a'.repeat(3000))),
    tier: scalar,
    n: fc.oneof(fc.integer(), fc.double(), fc.constant(Number.NaN)),
    flag: fc.boolean(),
    list: fc.array(scalar, { maxLength: 5 }),
    m: fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 4 }),
    big: fc.constant('x'.repeat(20_000)),
    any: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

function check(source: string, ctx: unknown): void {
  const compiled = Expression.compile(source);
  if (!compiled.ok) {
    expect(KINDS.has(compiled.error.kind)).toBe(true);
    return;
  }
  const clock = fakeClock();
  const result = compiled.expression.evaluate(ctx, { clock, deadlineMs: DEADLINE_MS });
  expect(typeof result.matched).toBe('boolean');
  if (result.error) {
    expect(result.matched).toBe(false);
    expect(KINDS.has(result.error.kind)).toBe(true);
  }
  // the clock was read once per CLOCK_CHECK_INTERVAL units: work is bounded by the deadline
  expect(result.steps).toBeLessThanOrEqual((DEADLINE_MS + 2) * CLOCK_CHECK_INTERVAL + MAX_WORK_AFTER_DEADLINE);
}

describe('the evaluator under random input', () => {
  it('never throws and never runs past the deadline on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), context, (source, ctx) => check(source, ctx)),
      { numRuns: 2000 },
    );
  });

  it('never throws and never runs past the deadline on random well-formed expressions', () => {
    fc.assert(
      fc.property(expression, context, (source, ctx) => check(source, ctx)),
      { numRuns: 3000 },
    );
  });

  it('never throws on random JSON contexts, including hostile keys', () => {
    const hostile = fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'toString', 'region', 'a.b', 'a'), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(expression, hostile, (source, ctx) => check(source, ctx)),
      { numRuns: 1000 },
    );
  });

  it('stops a long evaluation at the deadline and says so', () => {
    const compiled = Expression.compile('big matches "(.*a){10}b" or big matches "(x+x+)+y"');
    if (!compiled.ok) throw new Error(compiled.error.message);
    const result = compiled.expression.evaluate({ big: 'x'.repeat(200_000) }, { clock: fakeClock(), deadlineMs: 5 });
    expect(result).toMatchObject({ matched: false, error: { kind: 'deadline', message: expect.stringContaining('5 ms') } });
    expect(result.steps).toBeLessThanOrEqual(7 * CLOCK_CHECK_INTERVAL + MAX_WORK_AFTER_DEADLINE);
  });

  it('stops at the step budget too', () => {
    const compiled = Expression.compile('big matches "(x+x+)+y"');
    if (!compiled.ok) throw new Error(compiled.error.message);
    const result = compiled.expression.evaluate({ big: 'x'.repeat(100_000) }, { clock: () => 0, maxSteps: 10_000 });
    expect(result).toMatchObject({ matched: false, error: { kind: 'deadline', message: expect.stringContaining('10000 steps') } });
  });
});

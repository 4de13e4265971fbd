import { refusalDelaySeconds, refusalKey, retryAfterSeconds } from './refusal-policy';

describe('refusal policy', () => {
  it('doubles the delay per refusal from the base, up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => refusalDelaySeconds(n, 5, 300))).toEqual([0, 5, 10, 20, 40, 80, 160, 300]);
    expect(refusalDelaySeconds(1000, 5, 300)).toBe(300);
  });

  it('keeps a refused Collector (reconnect at once after a close, Retry-After honoured on a refused upgrade) under 10 attempts in its first minute', () => {
    // each refusal that needs the first frame costs the attempt itself and the immediate retry, refused 429 until the block ends
    let t = 0;
    let attempts = 0;
    for (let strikes = 1; t < 60; strikes++) {
      attempts += 2; // the attempt that reaches the first frame, and the immediate reconnect refused 429 with Retry-After
      t += refusalDelaySeconds(strikes, 5, 300);
    }
    expect(attempts).toBeLessThanOrEqual(10);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(4000)).toBe(4);
  });

  it('remembers by credential and source, never by the token in clear', () => {
    const a = refusalKey({ authorization: 'Bearer amp-bs.SECRET.CHECK' }, undefined, '10.0.0.1');
    expect(a).not.toContain('SECRET');
    expect(refusalKey({ authorization: 'Bearer amp-bs.SECRET.CHECK' }, undefined, '10.0.0.2')).not.toBe(a);
    expect(refusalKey({ authorization: 'Bearer amp-bs.OTHER.CHECK' }, undefined, '10.0.0.1')).not.toBe(a);
    expect(refusalKey({ authorization: 'Bearer amp-bs.SECRET.CHECK' }, undefined, '10.0.0.1')).toBe(a);
    expect(refusalKey({}, 'ab'.repeat(32), '10.0.0.1')).not.toBe(refusalKey({}, undefined, '10.0.0.1'));
  });
});

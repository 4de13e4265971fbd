import { TestClock } from './test-clock';

describe('TestClock', () => {
  it('runs timers in due order as time advances, each at its own time', async () => {
    const clock = new TestClock(1000);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.nowMs()]), 200);
    clock.setTimeout(() => seen.push(['a', clock.nowMs()]), 100);
    const every = clock.setInterval(() => seen.push(['i', clock.nowMs()]), 150);
    await clock.advance(99);
    expect(seen).toEqual([]);
    await clock.advance(251);
    expect(seen).toEqual([['a', 1100], ['i', 1150], ['b', 1200], ['i', 1300]]);
    every.cancel();
    await clock.advance(1000);
    expect(seen).toHaveLength(4);
    expect(clock.nowMs()).toBe(2350);
  });

  it('resolves sleep when advanced and rejects it on abort', async () => {
    const clock = new TestClock();
    let woke = false;
    const sleeping = clock.sleep(5000).then(() => (woke = true));
    await clock.advance(4999);
    expect(woke).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);
    const abort = new AbortController();
    const aborted = clock.sleep(1000, abort.signal);
    abort.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
  });
});

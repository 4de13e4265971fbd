import { RecentCache } from './recent-cache';

describe('RecentCache', () => {
  it('answers a value for ttlMs after it was set, then no more', () => {
    const c = new RecentCache<string, number>({ ttlMs: 5000, max: 10 });
    c.set('a', 1, 1000);
    expect(c.get('a', 5999)).toBe(1);
    expect(c.get('a', 6000)).toBeUndefined();
  });

  it('drops stale entries as new ones come, so it does not keep one per key ever set', () => {
    const c = new RecentCache<number, number>({ ttlMs: 5000, max: 100_000 });
    for (let i = 0; i < 20_000; i++) c.set(i, i, i); // one a millisecond
    // only the last 5 seconds' entries remain
    expect(c.size).toBe(5000);
    expect(c.get(14_999, 19_999)).toBeUndefined();
    expect(c.get(15_000, 19_999)).toBe(15_000);
  });

  it('setting a key again moves it behind the others and renews it', () => {
    const c = new RecentCache<string, number>({ ttlMs: 5000, max: 10 });
    c.set('a', 1, 0);
    c.set('b', 2, 1000);
    c.set('a', 3, 2000);
    c.set('c', 4, 5500); // 'b' (1000) is still fresh, 'a' was renewed at 2000
    expect(c.size).toBe(3);
    c.set('d', 5, 6500); // 'b' is stale now and at the front
    expect(c.get('b', 6500)).toBeUndefined();
    expect(c.size).toBe(3);
    expect(c.get('a', 6500)).toBe(3);
  });

  it('keeps at most max entries, dropping the oldest', () => {
    const c = new RecentCache<number, number>({ ttlMs: 60_000, max: 3 });
    for (let i = 0; i < 5; i++) c.set(i, i, 0);
    expect(c.size).toBe(3);
    expect(c.get(1, 0)).toBeUndefined();
    expect(c.get(2, 0)).toBe(2);
    expect(c.get(4, 0)).toBe(4);
  });

  it('deletes by key and by value', () => {
    const c = new RecentCache<string, { id: string }>({ ttlMs: 5000, max: 10 });
    c.set('h1', { id: 't1' }, 0);
    c.set('h2', { id: 't2' }, 0);
    c.delete('h1');
    c.deleteWhere((v) => v.id === 't2');
    expect(c.size).toBe(0);
  });
});

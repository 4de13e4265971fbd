import fc from 'fast-check';
import { DropOldestQueue } from './drop-oldest-queue';

describe('DropOldestQueue', () => {
  it('is FIFO below capacity and drops nothing', () => {
    const q = new DropOldestQueue<number>(3);
    expect(q.push(1)).toBe(false);
    expect(q.push(2)).toBe(false);
    expect(q.shift()).toBe(1);
    expect(q.push(3)).toBe(false);
    expect(q.push(4)).toBe(false);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([2, 3, 4, undefined]);
    expect(q.takeDropped()).toBe(0);
  });

  it('drops the oldest when full and counts the drops until taken', () => {
    const q = new DropOldestQueue<string>(2);
    q.push('a');
    q.push('b');
    expect(q.push('c')).toBe(true);
    expect(q.push('d')).toBe(true);
    expect(q.length).toBe(2);
    expect(q.takeDropped()).toBe(2);
    expect(q.takeDropped()).toBe(0);
    expect([q.shift(), q.shift()]).toEqual(['c', 'd']);
  });

  it('refuses a capacity below one', () => {
    expect(() => new DropOldestQueue(0)).toThrow();
  });

  it('always holds the newest items, in order, and accounts for every item (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.oneof(fc.constant<'shift'>('shift'), fc.integer()), { maxLength: 200 }), (capacity, ops) => {
        const q = new DropOldestQueue<number>(capacity);
        const model: number[] = [];
        let pushed = 0;
        let shifted = 0;
        let dropped = 0;
        for (const op of ops) {
          if (op === 'shift') {
            const expected = model.shift();
            expect(q.shift()).toBe(expected);
            if (expected !== undefined) shifted += 1;
          } else {
            pushed += 1;
            model.push(op);
            if (model.length > capacity) model.shift();
            q.push(op);
          }
          dropped += q.takeDropped();
          expect(q.length).toBe(model.length);
        }
        expect(pushed).toBe(shifted + dropped + q.length);
      }),
    );
  });
});

import { TurnBatch } from './turn-batch';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function squares(max = 100) {
  const calls: number[][] = [];
  const batch = new TurnBatch<number, number>({
    key: (n) => String(n),
    max,
    run: async (ns) => {
      calls.push(ns);
      return new Map(ns.filter((n) => n >= 0).map((n) => [String(n), n * n]));
    },
  });
  return { batch, calls };
}

describe('TurnBatch', () => {
  it('answers the requests of one turn with one call, each with its own answer', async () => {
    const { batch, calls } = squares();
    const answers = await Promise.all([batch.ask(2), batch.ask(3), batch.ask(4)]);
    expect(answers).toEqual([4, 9, 16]);
    expect(calls).toEqual([[2, 3, 4]]);
    expect(batch.batches).toBe(1);
  });

  it('asks once for a key asked twice in a turn, and answers both', async () => {
    const { batch, calls } = squares();
    const [a, b] = await Promise.all([batch.ask(5), batch.ask(5)]);
    expect([a, b]).toEqual([25, 25]);
    expect(calls).toEqual([[5]]);
  });

  it('answers undefined for a key the call left out', async () => {
    const { batch } = squares();
    await expect(Promise.all([batch.ask(-1), batch.ask(1)])).resolves.toEqual([undefined, 1]);
  });

  it('sends a full batch at once and the rest at the end of the turn', async () => {
    const { batch, calls } = squares(2);
    const all = [1, 2, 3].map((n) => batch.ask(n));
    expect(calls).toEqual([[1, 2]]); // sent synchronously when the second key arrived
    expect(batch.pending).toBe(1);
    await Promise.all(all);
    expect(calls).toEqual([[1, 2], [3]]);
  });

  it('keeps turns apart: a request of the next turn goes in the next batch', async () => {
    const { batch, calls } = squares();
    const first = batch.ask(1);
    await turn();
    const second = batch.ask(2);
    await Promise.all([first, second]);
    expect(calls).toEqual([[1], [2]]);
  });

  it('fails every request of a failed batch, and the next batch still works', async () => {
    let fail = true;
    const batch = new TurnBatch<string, string>({
      key: (s) => s,
      max: 10,
      run: async (xs) => {
        if (fail) throw new Error('the statement failed');
        return new Map(xs.map((x) => [x, x.toUpperCase()]));
      },
    });
    const results = await Promise.allSettled([batch.ask('a'), batch.ask('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('the statement failed'));
    fail = false;
    await expect(batch.ask('c')).resolves.toBe('C');
  });

  it('fails the batch when the call throws before it returns a promise', async () => {
    const batch = new TurnBatch<string, string>({
      key: (s) => s,
      max: 10,
      run: () => {
        throw new Error('synchronous');
      },
    });
    await expect(batch.ask('a')).rejects.toThrow('synchronous');
  });

  describe('with inFlight (decision 0431)', () => {
    /** A batch whose calls return only when the test releases them, one by one. */
    function held(max: number, inFlight: number) {
      const calls: number[][] = [];
      const releases: Array<() => void> = [];
      const batch = new TurnBatch<number, number>({
        key: (n) => String(n),
        max,
        inFlight,
        run: (ns) =>
          new Promise((resolve, reject) => {
            calls.push(ns);
            releases.push(() => (ns.includes(-1) ? reject(new Error('failed')) : resolve(new Map(ns.map((n) => [String(n), n * n])))));
          }),
      });
      const release = async () => {
        releases.shift()!();
        await turn();
      };
      return { batch, calls, release };
    }

    it('sends a request at the end of its turn when nothing runs', async () => {
      const { batch, calls, release } = held(100, 1);
      const first = batch.ask(1);
      await turn();
      expect(calls).toEqual([[1]]);
      await release();
      await expect(first).resolves.toBe(1);
    });

    it('gathers what is asked in later turns while a batch runs, and sends it together when it returns', async () => {
      const { batch, calls, release } = held(100, 1);
      const answers = [batch.ask(1)];
      await turn();
      for (const n of [2, 3, 4]) {
        answers.push(batch.ask(n));
        await turn();
      }
      expect(calls).toEqual([[1]]);
      expect(batch.pending).toBe(3);
      await release();
      expect(calls).toEqual([[1], [2, 3, 4]]);
      await release();
      await expect(Promise.all(answers)).resolves.toEqual([1, 4, 9, 16]);
      expect(batch.batches).toBe(2);
    });

    it('runs up to inFlight batches at once, each at most max requests', async () => {
      const { batch, calls, release } = held(2, 2);
      const answers = [1, 2, 3, 4, 5, 6, 7].map((n) => batch.ask(n));
      await turn();
      expect(calls).toEqual([
        [1, 2],
        [3, 4],
      ]);
      await release();
      expect(calls.slice(2)).toEqual([[5, 6]]);
      await release();
      expect(calls.slice(3)).toEqual([[7]]);
      await release();
      await release();
      await expect(Promise.all(answers)).resolves.toEqual([1, 4, 9, 16, 25, 36, 49]);
    });

    it('sends what waited when a running batch fails', async () => {
      const { batch, calls, release } = held(100, 1);
      const failing = batch.ask(-1);
      await turn();
      const waiting = batch.ask(3);
      await turn();
      await release();
      await expect(failing).rejects.toThrow('failed');
      expect(calls).toEqual([[-1], [3]]);
      await release();
      await expect(waiting).resolves.toBe(9);
    });

    it('refuses an inFlight below 1', () => {
      expect(() => new TurnBatch<number, number>({ key: String, max: 1, inFlight: 0, run: async () => new Map() })).toThrow(/inFlight of at least 1/);
    });
  });

  describe('with spacingMs (decision 0442)', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    function spaced(max: number, spacingMs: number) {
      const calls: number[][] = [];
      const batch = new TurnBatch<number, number>({
        key: (n) => String(n),
        max,
        inFlight: 1,
        spacingMs,
        run: async (ns) => {
          calls.push(ns);
          return new Map(ns.map((n) => [String(n), n * n]));
        },
      });
      return { batch, calls };
    }
    /** Moves the fake host time on by `ms`, running what falls due, and lets answered batches settle. */
    async function after(ms: number) {
      await jest.advanceTimersByTimeAsync(ms);
    }

    it('sends a quiet request at the end of its turn, and holds what comes within spacingMs of a batch until that time is over', async () => {
      const { batch, calls } = spaced(100, 50);
      const first = batch.ask(1);
      await after(0);
      expect(calls).toEqual([[1]]);
      await expect(first).resolves.toBe(1);
      await after(10);
      const held = [batch.ask(2)];
      await after(20);
      held.push(batch.ask(3));
      await after(19);
      expect(calls).toEqual([[1]]);
      expect(batch.pending).toBe(2);
      await after(1);
      expect(calls).toEqual([[1], [2, 3]]);
      await expect(Promise.all(held)).resolves.toEqual([4, 9]);
      // long after the last batch: at the end of the turn again
      await after(500);
      const late = batch.ask(4);
      await after(0);
      expect(calls).toEqual([[1], [2, 3], [4]]);
      await expect(late).resolves.toBe(16);
      expect(batch.batches).toBe(3);
    });

    it('sends a full batch at once, whatever the spacing', async () => {
      const { batch, calls } = spaced(3, 1000);
      const first = batch.ask(1);
      await after(0);
      await expect(first).resolves.toBe(1);
      const answers = [2, 3, 4].map((n) => batch.ask(n));
      await after(0);
      expect(calls).toEqual([[1], [2, 3, 4]]);
      await expect(Promise.all(answers)).resolves.toEqual([4, 9, 16]);
      const fifth = batch.ask(5);
      await after(999);
      expect(calls).toHaveLength(2);
      await after(1);
      expect(calls).toEqual([[1], [2, 3, 4], [5]]);
      await expect(fifth).resolves.toBe(25);
    });

    it('refuses a negative spacingMs', () => {
      expect(() => new TurnBatch<number, number>({ key: String, max: 1, spacingMs: -1, run: async () => new Map() })).toThrow(/spacingMs of 0 or more/);
    });
  });

  it('refuses a max below 1', () => {
    expect(() => new TurnBatch<string, string>({ key: (s) => s, max: 0, run: async () => new Map() })).toThrow(/max of at least 1/);
  });
});

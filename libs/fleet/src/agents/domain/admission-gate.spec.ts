import { AdmissionGate } from './admission-gate';

const tick = () => new Promise((r) => setImmediate(r));

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('AdmissionGate', () => {
  it('runs at most `limit` tasks at once and starts the others in arrival order', async () => {
    const gate = new AdmissionGate(2);
    const started: number[] = [];
    const finish = Array.from({ length: 5 }, () => deferred());
    const results = finish.map((d, i) =>
      gate.run(async () => {
        started.push(i);
        await d.promise;
        return i * 10;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect([gate.active, gate.queued]).toEqual([2, 3]);
    finish[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    finish[0]!.resolve();
    finish[2]!.resolve();
    await tick();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(gate.queued).toBe(0);
    finish[3]!.resolve();
    finish[4]!.resolve();
    expect(await Promise.all(results)).toEqual([0, 10, 20, 30, 40]);
    expect([gate.active, gate.queued]).toEqual([0, 0]);
  });

  it('frees the slot of a task that fails, and passes the failure on', async () => {
    const gate = new AdmissionGate(1);
    const failing = gate.run(async () => {
      throw new Error('no database');
    });
    const next = gate.run(async () => 'ran');
    await expect(failing).rejects.toThrow('no database');
    expect(await next).toBe('ran');
    expect(gate.active).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new AdmissionGate(0)).toThrow(/at least 1/);
    expect(() => new AdmissionGate(1.5)).toThrow(/at least 1/);
  });
});

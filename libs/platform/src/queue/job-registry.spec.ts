import { defineQueue, JobRegistry } from './job-registry';

describe('JobRegistry', () => {
  const fleet = defineQueue('fleet', { reconcile: 'fleet.reconcile', push: 'fleet.push' });

  it('is consistent when every job has exactly one handler', () => {
    const r = new JobRegistry();
    r.declare(fleet);
    r.handle('fleet.reconcile', async () => 1);
    r.handle('fleet.push', async () => 2);
    expect(r.problems()).toEqual([]);
    expect(r.isDeclared('fleet', 'fleet.push')).toBe(true);
    expect(r.isDeclared('fleet', 'fleet.other')).toBe(false);
  });

  it('names a job without a handler, one with two, and a handler for an undeclared job', () => {
    const r = new JobRegistry();
    r.declare(fleet);
    r.handle('fleet.push', async () => 1);
    r.handle('fleet.push', async () => 2);
    r.handle('fleet.ghost', async () => 3);
    expect(r.problems()).toEqual([
      'job fleet.reconcile of queue fleet has no handler',
      'job fleet.push of queue fleet has 2 handlers',
      'a handler answers fleet.ghost, which no queue declares',
    ]);
    expect(r.handlerFor('fleet.push')).toBeUndefined();
  });

  it('insists that job names are namespaced by their queue', () => {
    expect(() => defineQueue('fleet', { x: 'rollouts.x' })).toThrow(/fleet\.<job>/);
  });
});

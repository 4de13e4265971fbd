import { JobRegistry } from '@ampora/platform';
import { consumersRunning } from './worker-http';

describe('the worker readiness check of its job consumers', () => {
  it('fails with no consumer, names the stopped ones, and passes when all run', async () => {
    const registry = new JobRegistry();
    await expect(consumersRunning(registry)).rejects.toThrow('no job consumer is registered');
    let pkiRunning = false;
    registry.trackConsumer('fleet', () => true);
    registry.trackConsumer('pki', () => pkiRunning);
    await expect(consumersRunning(registry)).rejects.toThrow('job consumers not running: pki');
    pkiRunning = true;
    await expect(consumersRunning(registry)).resolves.toBeUndefined();
  });
});

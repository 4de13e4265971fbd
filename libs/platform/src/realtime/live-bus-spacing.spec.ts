import { loadConfig } from '../config/ampora-config';
import { InProcessBackplane } from '../backplane/inprocess-backplane';
import { STORM_BATCH_SPACING_MS } from '../batching/batch-spacing';
import { LIVE_BATCH_MAX, LIVE_BATCH_TOPIC, LiveBus } from './live-bus';

/**
 * Decision 0442: the bus broadcasts at most one backplane message per STORM_BATCH_SPACING_MS, so a
 * storm that publishes for one agent per turn sends a message per spacing, not per agent; a lone
 * event long after the last message, a full batch and the shutdown go at once.
 */
describe('LiveBus: backplane messages spaced in a storm', () => {
  const config = loadConfig({ AMPORA_REDIS_PREFIX: `spacing-${process.pid}` });
  let bus: LiveBus;
  let backplane: InProcessBackplane;
  /** The events of each batch message the backplane was handed, by entity id. */
  let messages: string[][];

  beforeEach(async () => {
    jest.useFakeTimers();
    backplane = new InProcessBackplane(config);
    await backplane.start();
    messages = [];
    const broadcast = backplane.broadcast.bind(backplane);
    jest.spyOn(backplane, 'broadcast').mockImplementation((topic, body) => {
      if (topic === LIVE_BATCH_TOPIC) messages.push((body as Array<{ entityId: string }>).map((e) => e.entityId));
      return broadcast(topic, body);
    });
    bus = new LiveBus(backplane, config);
    bus.onModuleInit();
  });
  afterEach(async () => {
    bus.onModuleDestroy();
    await backplane.stop();
    jest.useRealTimers();
  });

  const publish = (id: string) => bus.publish({ type: 'test.event', tenantId: 't1', entityId: id, payload: {} });

  it('sends a lone event at the end of its turn, and gathers what later turns publish within the spacing', async () => {
    publish('a');
    await jest.advanceTimersByTimeAsync(0);
    expect(messages).toEqual([['a']]);
    // one event a turn, as a storm publishes them
    for (const id of ['b', 'c', 'd']) {
      publish(id);
      await jest.advanceTimersByTimeAsync(1);
    }
    expect(messages).toEqual([['a']]);
    await jest.advanceTimersByTimeAsync(STORM_BATCH_SPACING_MS);
    expect(messages).toEqual([['a'], ['b', 'c', 'd']]);
    // long after: at the end of its turn again
    await jest.advanceTimersByTimeAsync(1000);
    publish('e');
    await jest.advanceTimersByTimeAsync(0);
    expect(messages).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
  });

  it('sends a full batch at once, and what waits when the bus stops', async () => {
    publish('first');
    await jest.advanceTimersByTimeAsync(0);
    for (let i = 0; i < LIVE_BATCH_MAX; i++) publish(String(i));
    expect(messages.map((m) => m.length)).toEqual([1, LIVE_BATCH_MAX]);
    publish('last');
    await jest.advanceTimersByTimeAsync(0);
    expect(messages).toHaveLength(2);
    bus.onModuleDestroy();
    expect(messages.at(-1)).toEqual(['last']);
  });
});

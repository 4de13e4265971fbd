import { loadConfig } from '../config/ampora-config';
import { InProcessBackplane } from '../backplane/inprocess-backplane';
import { LiveBus } from './live-bus';
import { DeliveredEvent, DomainEvent, isEvent, liveFrameData } from './live-event';

/** A lib's events as libs declare them (`<lib>.events.ts`). */
const ProbeEvents = { Started: 'probe.started', Stopped: 'probe.stopped', Other: 'probe.other' } as const;
type ProbeEvent =
  | DomainEvent<typeof ProbeEvents.Started, { runs: number }>
  | DomainEvent<typeof ProbeEvents.Stopped, { reason: string }>
  | DomainEvent<typeof ProbeEvents.Other, { x: boolean }>;

describe('LiveBus typed against an event union', () => {
  const config = loadConfig({ AMPORA_REDIS_PREFIX: `typed-${process.pid}` });
  let bus: LiveBus;
  let backplane: InProcessBackplane;

  beforeEach(async () => {
    backplane = new InProcessBackplane(config);
    await backplane.start();
    bus = new LiveBus(backplane, config);
    bus.onModuleInit();
  });
  afterEach(async () => {
    bus.onModuleDestroy();
    await backplane.stop();
  });

  it('hands an `on` listener only the named members, narrowed, and honours its filter', () => {
    const got: Array<DeliveredEvent<Extract<ProbeEvent, { type: 'probe.started' | 'probe.stopped' }>>> = [];
    const stop = bus.on<ProbeEvent, typeof ProbeEvents.Started | typeof ProbeEvents.Stopped>([ProbeEvents.Started, ProbeEvents.Stopped], (e) => got.push(e), {
      name: 'probe',
      filter: (e) => e.tenantId === 't1',
    });
    bus.publish<ProbeEvent>({ type: ProbeEvents.Started, tenantId: 't1', payload: { runs: 3 } });
    bus.publish<ProbeEvent>({ type: ProbeEvents.Other, tenantId: 't1', payload: { x: true } });
    bus.publish<ProbeEvent>({ type: ProbeEvents.Stopped, tenantId: 't2', payload: { reason: 'other tenant' } });
    bus.publish<ProbeEvent>({ type: ProbeEvents.Stopped, tenantId: 't1', payload: { reason: 'done' } });
    stop();
    bus.publish<ProbeEvent>({ type: ProbeEvents.Started, tenantId: 't1', payload: { runs: 4 } });

    expect(got.map((e) => e.type)).toEqual([ProbeEvents.Started, ProbeEvents.Stopped]);
    const [started, stopped] = got;
    // the payload is typed by the member: runs is a number, reason a string
    if (started && isEvent<ProbeEvent, typeof ProbeEvents.Started>(started, ProbeEvents.Started)) expect(started.payload.runs + 1).toBe(4);
    if (stopped && isEvent<ProbeEvent, typeof ProbeEvents.Stopped>(stopped, ProbeEvents.Stopped)) expect(stopped.payload.reason.toUpperCase()).toBe('DONE');
  });

  it('frames any delivered event with the same fields for the SSE stream', () => {
    const delivered = bus.publish<ProbeEvent>({ type: ProbeEvents.Started, tenantId: 't1', entityId: 'e1', payload: { runs: 1 } });
    expect(liveFrameData<ProbeEvent>(delivered)).toEqual({ id: delivered.id, type: 'probe.started', tenantId: 't1', entityId: 'e1', at: delivered.at, origin: config.app.instanceId, payload: { runs: 1 } });
  });
});

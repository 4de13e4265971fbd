import { liveEventId, liveEventTime, PublishedLiveEvent } from './live-event';
import { ReplayHistory } from './replay-history';

const T0 = 1_800_000_000_000;

function event(tenantId: string, at: number, seq: number, node = 'aa'): PublishedLiveEvent {
  return { id: liveEventId(at, node, seq), type: 'agent.connected', tenantId, payload: { seq }, at: new Date(at).toISOString(), origin: 'i1' };
}

describe('live event ids', () => {
  it('sort by publish time as strings and carry it', () => {
    const a = liveEventId(T0, 'ab12', 5);
    const b = liveEventId(T0 + 1, 'ab12', 0);
    expect(a < b).toBe(true);
    expect(liveEventTime(a)).toBe(T0);
    expect(liveEventTime('not-an-id')).toBeUndefined();
    expect(liveEventTime('')).toBeUndefined();
  });
});

describe('ReplayHistory', () => {
  let clock = T0;
  const now = () => clock;
  beforeEach(() => (clock = T0));

  it('replays what came after the last seen event, per tenant', () => {
    const h = new ReplayHistory(100, 60_000, now);
    const e = [1, 2, 3, 4].map((i) => event('t1', T0 + i, i));
    const other = event('t2', T0 + 2, 9);
    for (const x of [e[0]!, e[1]!, other, e[2]!, e[3]!]) h.add(x);
    expect(h.since('t1', e[1]!.id)).toEqual({ complete: true, events: [e[2], e[3]] });
    expect(h.since('t1', e[3]!.id)).toEqual({ complete: true, events: [] });
    expect(h.since('t2', other.id)).toEqual({ complete: true, events: [] });
  });

  it('also returns events that arrived earlier here but were published after the last one seen', () => {
    const h = new ReplayHistory(100, 60_000, now);
    const late = event('t1', T0 + 20, 1, 'bb'); // published later on another instance, arrived first here
    const seen = event('t1', T0 + 10, 1, 'aa');
    const older = event('t1', T0 + 5, 2, 'cc');
    h.add(older);
    h.add(late);
    h.add(seen);
    expect(h.since('t1', seen.id)).toEqual({ complete: true, events: [late] });
  });

  it('resumes from an id it never saw when its time is inside the window', () => {
    const h = new ReplayHistory(100, 60_000, now);
    const a = event('t1', T0 + 10, 1);
    const b = event('t1', T0 + 30, 2);
    h.add(a);
    h.add(b);
    const unseen = liveEventId(T0 + 20, 'zz', 7);
    expect(h.since('t1', unseen)).toEqual({ complete: true, events: [b] });
    expect(h.since('t9', unseen)).toEqual({ complete: true, events: [] });
  });

  it('says so when the last event is older than what it still holds (count or age) or than its start', () => {
    const h = new ReplayHistory(2, 60_000, now);
    const e = [1, 2, 3].map((i) => event('t1', T0 + i * 10, i));
    for (const x of e) h.add(x);
    expect(h.since('t1', e[0]!.id)).toEqual({ complete: false, reason: 'outside_window' });
    expect(h.since('t1', e[1]!.id)).toEqual({ complete: true, events: [e[2]] });
    expect(h.since('t1', liveEventId(T0 - 1000, 'zz', 1))).toEqual({ complete: false, reason: 'outside_window' });
    expect(h.since('t2', liveEventId(T0 - 1000, 'zz', 1))).toEqual({ complete: false, reason: 'outside_window' });
    clock = T0 + 120_000;
    expect(h.since('t1', e[2]!.id)).toEqual({ complete: false, reason: 'outside_window' });
    expect(h.since('t1', 'garbage')).toEqual({ complete: false, reason: 'unknown_event_id' });
  });

  it('keeps exactly the last maxEvents through many evictions (and the age limit on top of them)', () => {
    const h = new ReplayHistory(100, 60_000, now);
    const e = Array.from({ length: 1000 }, (_, i) => event('t1', T0 + i, i));
    for (const x of e) h.add(x);
    // e[900] is the oldest kept: everything after it; an evicted event is outside the window
    expect(h.since('t1', e[900]!.id)).toEqual({ complete: true, events: e.slice(901) });
    expect(h.since('t1', e[950]!.id)).toEqual({ complete: true, events: e.slice(951) });
    expect(h.since('t1', e[899]!.id)).toEqual({ complete: false, reason: 'outside_window' });
    clock = T0 + 30_000;
    const late = Array.from({ length: 30 }, (_, i) => event('t1', clock + i, 1000 + i));
    for (const x of late) h.add(x);
    clock = T0 + 61_000; // the first 1,000 are past the age limit now, the late ones are not
    expect(h.since('t1', e[999]!.id)).toEqual({ complete: false, reason: 'outside_window' });
    expect(h.since('t1', late[9]!.id)).toEqual({ complete: true, events: late.slice(10) });
  });

  it('never claims completeness when replay is switched off', () => {
    const h = new ReplayHistory(0, 60_000, now);
    const a = event('t1', T0 + 1, 1);
    h.add(a);
    expect(h.since('t1', a.id)).toEqual({ complete: false, reason: 'outside_window' });
  });
});

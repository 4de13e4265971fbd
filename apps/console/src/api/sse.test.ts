import { describe, expect, it } from 'vitest';
import { LiveEvent, SseParser, subscribeLive } from './sse';

describe('SseParser', () => {
  it('assembles events split across chunks, with CRLF, comments and multi-line data', () => {
    const got: Array<{ id: string; event: string; data: string }> = [];
    const p = new SseParser((e) => got.push(e));
    p.push(': keep-alive\n\nid: 7\r\nevent: rollout.progress\r\nda');
    p.push('ta: {"a":1}\r\ndata: {"b":2}\r\n');
    expect(got).toEqual([]);
    p.push('\r\n');
    expect(got).toEqual([{ id: '7', event: 'rollout.progress', data: '{"a":1}\n{"b":2}' }]);
  });
});

describe('subscribeLive', () => {
  it('sends the token in a header (never the URL) and resumes after a dropped stream with Last-Event-ID', async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    let round = 0;
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen.push({ url, headers: init.headers as Record<string, string> });
      round++;
      const text = round === 1 ? 'id: 41\nevent: agent.connected\ndata: {"type":"agent.connected","entityId":"a1"}\n\n' : '';
      return new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), c.close()) }), { status: 200 });
    }) as unknown as typeof fetch;
    const events: LiveEvent[] = [];
    const sub = subscribeLive('amp-pat-secret', (e) => events.push(e), { fetchImpl, retryMs: 5 });
    await new Promise((r) => setTimeout(r, 60));
    sub.close();
    expect(events[0]).toMatchObject({ id: '41', type: 'agent.connected', entityId: 'a1' });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((s) => !s.url.includes('amp-pat-secret') && s.headers.authorization === 'Bearer amp-pat-secret')).toBe(true);
    expect(seen[0]!.headers['last-event-id']).toBeUndefined();
    expect(seen[1]!.headers['last-event-id']).toBe('41');
  });
});

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { encodeAgentToServer, TestAgent } from '@ampora/testing';

/**
 * Attempts of the abuse-limits probe (issue 16 §7), each from a chosen loopback source address
 * (Linux answers on all of 127.0.0.0/8), so one run has an attacker's address and clean ones.
 */
export interface Answer {
  status: number;
  retryAfter?: number;
  /** The problem document's `code` (REST). */
  code?: string;
}

function hello(uid: Buffer): Record<string, unknown> {
  return {
    instance_uid: uid,
    sequence_num: 1,
    capabilities: 0x3007,
    agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'io.opentelemetry.collector' } }] },
  };
}

/** An agent that connects over WebSocket from `source` and says hello; `status` 101 when it enrolled. */
export async function wsAttempt(url: string, token: string, source: string, uid: Buffer = randomBytes(16)): Promise<Answer & { agent?: TestAgent }> {
  const agent = new TestAgent({ url, token, instanceUid: uid, wsOptions: { localAddress: source } });
  try {
    await agent.connect();
  } catch (error) {
    const e = error as { status?: number; retryAfter?: number };
    return { status: e.status ?? 0, retryAfter: e.retryAfter };
  }
  agent.ws!.on('error', () => undefined);
  agent.hello();
  const reply = await agent.next(10_000).catch(() => undefined);
  if (!reply || reply.error_response) {
    await agent.close();
    return { status: 0 };
  }
  return { status: 101, agent };
}

/** One OpAMP-over-HTTP poll (a hello) from `source`. */
export function httpAttempt(url: string, token: string, source: string): Promise<Answer> {
  const body = encodeAgentToServer(hello(randomBytes(16)));
  return request(url, { method: 'POST', localAddress: source, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}`, 'content-length': String(body.length) } }, body);
}

/** A REST call with a bearer token from `source`. */
export function restAttempt(url: string, token: string, source: string): Promise<Answer> {
  return request(url, { method: 'GET', localAddress: source, headers: { authorization: `Bearer ${token}` } });
}

function request(url: string, options: http.RequestOptions, body?: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(url, { ...options, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const retry = res.headers['retry-after'];
        let code: string | undefined;
        if (String(res.headers['content-type'] ?? '').startsWith('application/problem+json')) {
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string }).code;
          } catch {
            code = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, retryAfter: retry === undefined ? undefined : Number(retry), code });
      });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

/** Tallies answers by status. */
export function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[String(a.status)] = (counts[String(a.status)] ?? 0) + 1;
  return counts;
}

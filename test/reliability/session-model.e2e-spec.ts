import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { TestAgent } from '@ampora/testing';
import { badWsFrame } from './support/bad-frames';
import { Figures, FULL, scaled } from './support/figures';
import { bootstrapTokens, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §1, the property-based half: random sequences of what one agent can do on its OpAMP
 * WebSocket (connect, report, heartbeat, send a bad frame, send an oversize frame, hang up), run
 * against the built server and checked step by step against a model of the session: every frame is
 * answered exactly as the model says, and the fleet ends with exactly the agents that enrolled.
 */
const RUNS = scaled(300, 40);
const MAX_MESSAGE_BYTES = 16_384;

interface Model {
  connected: boolean;
  /** The connection's session is attached (a valid frame was handled on it). */
  attached: boolean;
  enrolled: boolean;
}

interface Real {
  url: string;
  token: string;
  uid: Buffer;
  agent?: TestAgent;
}

const description = { identifying_attributes: [{ key: 'service.name', value: { string_value: 'io.opentelemetry.collector' } }] };

async function answer(agent: TestAgent): Promise<{ error?: string; closed?: number }> {
  const fate = await Promise.race([agent.next(2000).then((m) => ({ m })), agent.closed(2000).then((code) => ({ code }))]).catch(() => ({ late: true }));
  if ('late' in fate) throw new Error('no answer and no close within 2 s');
  if ('code' in fate) return { closed: fate.code };
  return { error: fate.m.error_response?.error_message };
}

const commands = [
  fc.constant({
    check: (m: Readonly<Model>) => !m.connected,
    async run(m: Model, r: Real) {
      r.agent = new TestAgent({ url: r.url, token: r.token, instanceUid: r.uid });
      await r.agent.connect();
      r.agent.ws!.on('error', () => undefined);
      m.connected = true;
      m.attached = false;
    },
    toString: () => 'connect',
  }),
  fc.constant({
    check: (m: Readonly<Model>) => m.connected,
    async run(m: Model, r: Real) {
      r.agent!.send({ agent_description: description });
      const got = await answer(r.agent!);
      if (got.closed !== undefined || got.error) throw new Error(`a report was refused: ${JSON.stringify(got)}`);
      m.attached = true;
      m.enrolled = true;
    },
    toString: () => 'report',
  }),
  fc.constant({
    check: (m: Readonly<Model>) => m.connected && m.enrolled,
    async run(m: Model, r: Real) {
      r.agent!.heartbeat();
      const got = await answer(r.agent!);
      if (got.closed !== undefined || got.error) throw new Error(`a heartbeat was refused: ${JSON.stringify(got)}`);
      m.attached = true;
    },
    toString: () => 'heartbeat',
  }),
  fc.integer({ min: 0, max: 1000 }).map((salt) => ({
    check: (m: Readonly<Model>) => m.connected,
    async run(m: Model, r: Real) {
      let frame = badWsFrame(r.uid, r.agent!.seq + 1 + salt, MAX_MESSAGE_BYTES);
      // another agent's uid as the first frame is an attach attempt (refused, 1008), not a bad frame
      while (frame.outcome !== 'reply' || (!m.attached && frame.kind.includes('another agent'))) frame = badWsFrame(r.uid, r.agent!.seq + 1, MAX_MESSAGE_BYTES);
      r.agent!.sendRaw(frame.data);
      const got = await answer(r.agent!);
      if (got.closed !== undefined || got.error === undefined) throw new Error(`${frame.kind}: ${JSON.stringify(got)}, expected an error_response`);
    },
    toString: () => `bad frame (${salt})`,
  })),
  fc.constant({
    check: (m: Readonly<Model>) => m.connected,
    async run(m: Model, r: Real) {
      r.agent!.sendRaw(Buffer.concat([Buffer.from([0]), randomBytes(MAX_MESSAGE_BYTES + 10)]));
      const got = await answer(r.agent!);
      if (got.closed !== 1009) throw new Error(`oversize: ${JSON.stringify(got)}, expected close 1009`);
      m.connected = false;
    },
    toString: () => 'oversize frame',
  }),
  fc.constant({
    check: (m: Readonly<Model>) => m.connected,
    async run(m: Model, r: Real) {
      await r.agent!.close();
      m.connected = false;
    },
    toString: () => 'hang up',
  }),
] as Array<fc.Arbitrary<fc.AsyncCommand<Model, Real>>>;

describe('reliability: the OpAMP session against a model (fast-check)', () => {
  jest.setTimeout(FULL ? 900_000 : 120_000);
  let server: ServerProcess;
  const figures = new Figures('session-model');

  beforeAll(async () => {
    server = await startServerProcess({ AMPORA_OPAMP_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) });
  });
  afterAll(async () => {
    if (!server) return;
    figures.exact('secrets in the server log', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!]).length);
    figures.publish();
    await server.stop();
  });

  it('answers every step as the model says, and the fleet holds exactly the agents that enrolled', async () => {
    let enrolled = 0;
    let runs = 0;
    let failure: string | undefined;
    try {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 25, size: 'max' }), async (cmds) => {
          const [token] = await bootstrapTokens(server, 1, 'model');
          const real: Real = { url: server.wsUrl, token: token!, uid: randomBytes(16) };
          const model: Model = { connected: false, attached: false, enrolled: false };
          runs++;
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
          } finally {
            if (model.enrolled) enrolled++;
            await real.agent?.close();
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    } catch (error) {
      failure = (error as Error).message.split('\n').slice(0, 6).join(' ');
    }
    const agents = await server.api('GET', '/api/agents?limit=500');
    figures.exact('sequences where an answer differed from the model', `${runs} random sequences of up to 25 steps`, 0, failure ? 1 : 0);
    figures.exact('agents in the fleet minus agents that enrolled', `${runs} sequences, ${enrolled} enrolled`, 0, (agents.body.items as unknown[]).length - enrolled);
    figures.exact('server process crashes (exit)', `${runs} sequences`, 0, server.alive() ? 0 : 1);
    if (failure) process.stdout.write(`session model: ${failure}\n`);
    expect(figures.failures()).toEqual([]);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, openssl, RunningProcess, scratch, startProcess } from '@ampora/testing';
import { act, allTargets, apiClient, Api, assignGroup, collectorYaml, createRollout, createStaticGroup, enrollAgents, getRollout, publishVersions, rolloutAudit, SimAgent, waitRollout } from '../support/rollout-kit';
import { Figures, FULL, scaled } from './support/figures';
import { processOutput, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §3, the worker SIGKILLed mid-work: (1) while a rollout's step is open (its agents pushed
 * and still applying), the next worker must finish the rollout from the rows, pushing nobody twice
 * in the steps it starts and nobody anything else; (2) right after a revocation asked for a CRL (its
 * publication job waiting or running on the killed worker), the next worker must publish a CRL that
 * lists the revoked certificate.
 */
const AGENTS = scaled(60, 12);
const LEASE_SECONDS = 3;

describe('reliability: the worker killed mid-work', () => {
  jest.setTimeout(FULL ? 300_000 : 180_000);
  let server: ServerProcess;
  let api: Api;
  const workers: RunningProcess[] = [];
  const sims: SimAgent[] = [];
  const figures = new Figures('worker-kill');

  async function startWorker(id: string): Promise<RunningProcess> {
    const worker = startProcess('worker', { ...server.env, AMPORA_INSTANCE_ID: id });
    workers.push(worker);
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 120_000);
    return worker;
  }
  const workerLines = () => workers.flatMap(processOutput);

  beforeAll(async () => {
    server = await startServerProcess({ AMPORA_ROLLOUT_TICK_MS: '500', AMPORA_ROLLOUT_LEASE_SECONDS: String(LEASE_SECONDS), AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' });
    api = apiClient(server.base, server.adminToken);
  });

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close().catch(() => undefined)));
    for (const w of workers) await w.stop('SIGKILL');
    if (server) {
      const keys = [server.adminToken, server.env.AMPORA_MASTER_KEY!];
      figures.exact('secrets in the logs of the server and the workers', `${server.output().length} + ${workerLines().length} lines`, 0, secretsInOutput([...server.output(), ...workerLines()], keys).length);
    }
    figures.publish();
    await server?.stop();
  });

  it('a rollout whose worker is killed mid-step is finished by the next worker: nobody left out, nobody pushed twice by it', async () => {
    const first = await startWorker('kill-worker-a');
    const [v1, v2] = await publishVersions(api, [collectorYaml('kill-v1'), collectorYaml('kill-v2')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const fleet = await enrollAgents(api, server.wsUrl, AGENTS, { groupId: group.id, hostPrefix: 'kill' });
    sims.push(...fleet);
    await eventually(() => fleet.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash) || undefined, 30_000);
    // the agents take 1.5 s to apply: a step stays open long enough to kill the worker inside it
    for (const s of fleet) s.delayMs = 1500;
    const mark = Date.now();
    const batch = AGENTS / 3;
    const created = await createRollout(api, { configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Batch', batchSize: batch }, autoAdvance: true, dwellSeconds: 1 });
    await act(api, created.id, 'start');
    await waitRollout(api, created.id, (r) => r.currentStep === 1 && r.targets.some((t) => t.step === 1 && t.pushedAt !== null), 60_000, 'step 1 pushed');
    await first.stop('SIGKILL');
    const killedAt = Date.now();
    const atKill = await getRollout(api, created.id);

    await startWorker('kill-worker-b');
    let completedMs = Infinity;
    const done = await waitRollout(api, created.id, (r) => r.state === 'Completed' || r.state === 'Failed' || r.state === 'Paused', 90_000, 'finished').catch(() => getRollout(api, created.id));
    if (done.state === 'Completed') completedMs = Date.now() - killedAt;
    const targets = await allTargets(api, created.id);
    const wrongConfig = fleet.filter((s) => s.pushesSince(mark).some((p) => p.hash !== v2!.configHash)).length;
    const notApplied = fleet.filter((s) => s.agent.appliedHash?.toString('hex') !== v2!.configHash).length;
    // the steps the second worker started: exactly one push each (a push in flight at the kill may be repeated)
    const laterSteps = targets.filter((t) => t.step > atKill.currentStep!);
    const twice = laterSteps.filter((t) => fleet.find((s) => s.id === t.agentId)!.pushesSince(mark).length !== 1).length;
    const completions = (await rolloutAudit(api, created.id)).filter((e) => /(^|\.)Completed$/.test(e.action)).length;

    const sent = `${AGENTS} agents, a rollout in 3 batches, the worker SIGKILLed with step 1 pushed and applying, a second worker started`;
    figures.exact('rollouts not Completed by the next worker', sent, 0, done.state === 'Completed' ? 0 : 1);
    figures.atMost('seconds from the kill until the rollout completed', sent, 60, completedMs / 1000, ' s');
    figures.exact('agents not running the rollout\'s version at the end', sent, 0, notApplied);
    figures.exact('agents pushed another config than the rollout\'s', sent, 0, wrongConfig);
    figures.exact('agents of the steps the next worker started pushed other than once', `${laterSteps.length} agents in steps after ${atKill.currentStep}`, 0, twice);
    figures.exact('rollout targets', sent, AGENTS, targets.length);
    figures.exact('Completed transitions in the audit', sent, 1, completions);
    expect(figures.failures()).toEqual([]);
  });

  it('a CRL publication whose worker is killed is done by the next worker: the revoked certificate is listed', async () => {
    const files = scratch('ampora-crl-');
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.key', '-out', 'k.csr', '-subj', '/CN=crl-kill'], files.dir);
    const signed = await api('POST', '/api/pki/agent-certificates', { csr: readFileSync(join(files.dir, 'k.csr'), 'utf8') });
    expect(signed.status).toBe(201);
    const serial = normalSerial(signed.body.serialNumber as string);
    const running = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const killed = running.length ? running : [await startWorker('kill-worker-c')];
    // the revocation enqueues the publication; the worker is killed at once (the job waiting, or running on it)
    const revoked = await api('POST', `/api/pki/certificates/${signed.body.id as string}/revoke`);
    expect(revoked.status).toBe(200);
    for (const w of killed) await w.stop('SIGKILL');
    const killedAt = Date.now();
    const listedBeforeNext = (await crlSerials(server, files.dir)).has(serial);

    await startWorker('kill-worker-d');
    // measured from the next worker's start: how long a loaded machine takes to start one is not the product's
    const nextReadyAt = Date.now();
    let listedMs = Infinity;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if ((await crlSerials(server, files.dir)).has(serial)) {
        listedMs = Date.now() - nextReadyAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const sent = `a certificate revoked, the worker SIGKILLed right after (listed before the next worker started: ${listedBeforeNext ? 'yes' : 'no'}; the next worker ready ${((nextReadyAt - killedAt) / 1000).toFixed(1)} s after the kill)`;
    figures.exact('revoked certificates not in the CRL after the next worker started', sent, 0, listedMs === Infinity ? 1 : 0);
    figures.atMost('seconds from the next worker\'s start until the CRL listed it (the dead worker\'s job lock, 30 s, then the stalled-job check, 30 s)', sent, 120, listedMs / 1000, ' s');
    expect(figures.failures()).toEqual([]);
  });
});

function normalSerial(serial: string): string {
  return serial.replace(/[^0-9a-fA-F]/g, '').toUpperCase().replace(/^0+/, '');
}

/** The serials the server's CRL lists (read by openssl, not by our code). */
async function crlSerials(server: ServerProcess, dir: string): Promise<Set<string>> {
  const res = await fetch(`${server.base}/pki/crl.pem`);
  if (res.status !== 200) return new Set();
  const file = join(dir, `crl-${Date.now()}.pem`);
  writeFileSync(file, await res.text());
  const text = await openssl(['crl', '-in', file, '-noout', '-text'], dir);
  return new Set([...text.stdout.matchAll(/Serial Number:\s*([0-9A-Fa-f:]+)/g)].map((m) => normalSerial(m[1]!)));
}

import { Queue } from 'bullmq';
import { Client } from 'pg';
import { AUDIT_ARCHIVAL_QUEUE } from '@ampora/governance';
import { eventually, metricValue } from '@ampora/testing';
import { collectorYaml, GitFixture } from '../../../libs/gitops/test/git-fixture';
import { apiClient, expectStatus } from '../../support/rollout-kit';
import { Deployment, scrapeNode } from './deployment';

/**
 * The scenario's GitOps, audit-retention and policy steps (issues 18 and 17): a source on a local
 * `file://` repository made with the git CLI, swept by the worker after `POST …/sync`; aged audit rows
 * the worker's `audit-archival` sweep moves to the archive and purges; and a policy, made Active by two
 * Admins (four-eyes), that denies a direct assignment to one agent on A.
 */
export class GovernanceAndGitopsSteps {
  readonly repo = new GitFixture();
  sourceId = '';
  tip = '';
  readonly policyName = 'telemetry-deny-one';
  /** The trace of the denied assignment (A evaluated the policy in it). */
  deniedTrace = '';

  constructor(private readonly d: Deployment) {}

  /**
   * Two Admin tokens; one creates and submits a policy denying pushes to a fresh agent on A, the
   * other approves it (Active); a direct assignment to that agent through A is then refused with 422
   * PUSH_DENIED_BY_POLICY, after A's push-time check evaluated it.
   */
  async denyOneAssignment(): Promise<void> {
    const { a } = this.d;
    const admin = async (name: string) => apiClient(a.url, (await expectStatus(a.api, 'POST', '/api/tokens', 201, { name, role: 'Admin' })).body.token as string);
    const [alice, bob] = [await admin('telemetry-alice'), await admin('telemetry-bob')];
    const target = await this.d.enroll(a);
    const host = `host-${target.agent.uid.toString('hex').slice(0, 6)}`;
    const policy = await expectStatus(alice, 'POST', '/api/policies', 201, { name: this.policyName, description: '', expression: `agent.description["host.name"] != "${host}"` });
    await expectStatus(alice, 'POST', `/api/policies/${policy.body.id}/submit`, 200);
    const approved = await expectStatus(bob, 'POST', `/api/policies/${policy.body.id}/approve`, 200, {});
    if (approved.body.status !== 'Active') throw new Error(`the policy is ${approved.body.status}, not Active`);
    const refused = await this.d.traced(a, 'POST', `/api/agents/${target.id}/assign`, { yaml: 'receivers:\n  otlp: {}\n# denied\n' });
    if (refused.status !== 422 || refused.body?.code !== 'PUSH_DENIED_BY_POLICY' || refused.body?.policyName !== this.policyName) {
      throw new Error(`the assignment answered ${refused.status}: ${JSON.stringify(refused.body)}`);
    }
    this.deniedTrace = refused.traceId;
    await eventually(async () => metricValue(await scrapeNode(a), 'ampora_policy_denied_total', { policy: this.policyName }) >= 1, 10000, 200);
  }

  /** Creates the source (through the API on A) and asks for a sweep; the worker imports two files. */
  async syncGitSource(): Promise<void> {
    const { a } = this.d;
    this.tip = this.repo.write({ 'configs/edge.yaml': collectorYaml('debug'), 'configs/gateway.yaml': collectorYaml('otlp') }).commit('two collectors');
    const source = await expectStatus(a.api, 'POST', '/api/gitops/sources', 201, { name: 'telemetry-configs', repositoryUrl: this.repo.url, pollIntervalSeconds: 3600 });
    this.sourceId = source.body.id as string;
    await expectStatus(a.api, 'POST', `/api/gitops/sources/${this.sourceId}/sync`, 202);
  }

  /** Waits until the worker has swept the source at the repository's tip and counted the imports. */
  async waitGitSynced(): Promise<void> {
    const { a, worker } = this.d;
    await eventually(async () => (await expectStatus(a.api, 'GET', `/api/gitops/sources/${this.sourceId}`, 200)).body.lastSyncedSha === this.tip, 30000, 200);
    await eventually(async () => metricValue(await scrapeNode(worker), 'ampora_gitops_files_imported_total') >= 2, 10000, 200);
  }

  /**
   * Seeds the default tenant's audit log with a row past AMPORA_AUDIT_HOT_DAYS (90) and one past
   * AMPORA_AUDIT_ARCHIVE_DAYS (2555), then enqueues the `audit-archival` sweep the worker's job
   * scheduler would run: the first row is archived, the second archived and purged.
   */
  async sweepAgedAudit(): Promise<void> {
    const sql = new Client({ connectionString: this.d.db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'default'`);
      await sql.query(
        `INSERT INTO audit_events (tenant_id, actor, entity_type, entity_id, action, occurred_at) VALUES
           ($1, 'telemetry', 'Thing', 'aged', 'Seeded', now() - interval '91 days'),
           ($1, 'telemetry', 'Thing', 'ancient', 'Seeded', now() - interval '2556 days')`,
        [rows[0]!.id],
      );
    } finally {
      await sql.end();
    }
    const queue = new Queue(AUDIT_ARCHIVAL_QUEUE.name, { connection: { url: this.d.env.REDIS_URL! }, prefix: `${this.d.config.redis.keyPrefix}:bull` });
    try {
      await queue.add(AUDIT_ARCHIVAL_QUEUE.jobs.sweep, { trace: {}, payload: {} });
    } finally {
      await queue.close();
    }
  }

  /** Waits until the worker's /metrics counts the archived and the purged rows. */
  async waitAuditSwept(): Promise<void> {
    await eventually(async () => {
      const text = await scrapeNode(this.d.worker);
      return metricValue(text, 'ampora_audit_archived_total') >= 2 && metricValue(text, 'ampora_audit_purged_total') >= 1;
    }, 15000, 200);
  }

  close(): void {
    this.repo.close();
  }
}

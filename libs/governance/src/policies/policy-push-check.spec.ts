import { TenantLabels } from '@ampora/platform';
import { AuditInput, AuditService } from '../audit/audit.service';
import { DEFAULT_POLICY_SETTINGS } from '../domain/policy/policy-evaluation';
import { PolicyStatus } from '../domain/policy/policy-lifecycle';
import { TenantInfo, TenantService } from '../tenants/tenant.service';
import { PolicyEntity } from './entities/policy.entity';
import { PolicyPushCheck } from './policy-push-check';
import { PolicyRepository } from './policy.repository';

const TENANT_ID = '6f1c1a52-0000-4000-8000-000000000017';

/** A policy store holding one Active policy of the tenant (the database is not what this test is about). */
function repository(expression: string): PolicyRepository {
  const row = { id: 'p1', tenantId: TENANT_ID, name: 'only-acme', expression, status: PolicyStatus.Active } as PolicyEntity;
  return { settings: async () => ({ ...DEFAULT_POLICY_SETTINGS }), active: async () => [row] } as unknown as PolicyRepository;
}

function tenants(found: TenantInfo | undefined): TenantService {
  return { findById: async (id: string) => (found && found.id === id ? found : undefined) } as unknown as TenantService;
}

function audit(rows: AuditInput[]): AuditService {
  return { record: async (_m: unknown, input: AuditInput) => void rows.push(input) } as unknown as AuditService;
}

const push = { tenantId: TENANT_ID, path: 'rollout-step' as const, config: { exporters: { debug: {} } }, targets: [{ agent: { id: 'a1', description: {}, capabilities: [], group: null, labels: {} } }] };

describe('PolicyPushCheck: `tenant` is the tenant name in every process (decision 0369)', () => {
  it('allows `tenant = "acme"` for acme even where the process never learned the name (the worker)', async () => {
    // this process's label map does not know the tenant: TenantLabels.of answers the id
    expect(TenantLabels.of(TENANT_ID)).toBe(TENANT_ID);
    const rows: AuditInput[] = [];
    const check = new PolicyPushCheck(repository('tenant = "acme"'), audit(rows), tenants({ id: TENANT_ID, name: 'acme', displayName: 'Acme', createdAt: new Date(0) }));
    const result = await check.check(push);
    expect(result.denied.size).toBe(0);
    expect(rows).toEqual([]);
  });

  it('still denies another tenant by name', async () => {
    const rows: AuditInput[] = [];
    const check = new PolicyPushCheck(repository('tenant = "acme"'), audit(rows), tenants({ id: TENANT_ID, name: 'globex', displayName: 'Globex', createdAt: new Date(0) }));
    const result = await check.check(push);
    expect(result.denied.get('a1')).toMatchObject({ policyName: 'only-acme' });
    expect(rows).toHaveLength(1);
  });

  it('refuses to check a push of a tenant it cannot name (fail closed, never the id in its place)', async () => {
    const check = new PolicyPushCheck(repository('tenant = "acme"'), audit([]), tenants(undefined));
    await expect(check.check(push)).rejects.toThrow(/does not exist/);
  });
});

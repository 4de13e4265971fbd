import type { DataSource } from 'typeorm';
import { Principal, RequestContext, RoleName } from '@ampora/platform';

/** The default tenant of a test database, a principal of the given role in it, and a runner that acts as that principal. */
export interface DefaultTenantCaller {
  tenantId: string;
  principal: Principal;
  /** Runs `fn` as the principal (audit events need an actor). */
  as<T>(fn: () => Promise<T>): Promise<T>;
}

export async function defaultTenantCaller(ds: DataSource, role: RoleName, actor: string): Promise<DefaultTenantCaller> {
  const [{ id: tenantId }] = (await ds.query(`SELECT id FROM tenants WHERE name = 'default'`)) as Array<{ id: string }>;
  const principal: Principal = { kind: 'pat', tenantId: tenantId!, tenantName: 'default', role, actor };
  return { tenantId: tenantId!, principal, as: (fn) => RequestContext.run({ principal, tenantId: tenantId! }, fn) };
}

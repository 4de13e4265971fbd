import { AsyncLocalStorage } from 'node:async_hooks';
import type { RoleName } from '../auth/access-policy';

/** Who is acting: an operator (token or OIDC), an agent, or the system itself. */
export interface Principal {
  kind: 'pat' | 'oidc' | 'system';
  tenantId: string;
  tenantName: string;
  role: RoleName;
  /** The audit actor: PAT name, OIDC subject, or `system`. */
  actor: string;
  tokenId?: string;
}

export interface ContextScope {
  principal?: Principal;
  /** Tenant for logs and metrics when there is no principal (agents, jobs). */
  tenantId?: string;
  sourceIp?: string;
  /** Number of audit events written during this scope (one per mutating request is the rule). */
  auditWrites: number;
  /**
   * The tenant whose rows this scope's statements may see (row-level security, decision 0395): set
   * for an operator's API request once it is authenticated, cleared when its response is finished.
   * Unset is system work (OpAMP sessions, workers, sweeps), which runs as the owner.
   */
  dataTenant?: string;
}

const storage = new AsyncLocalStorage<ContextScope>();

/** Ambient per-request (or per-job, per-frame) context carried through async calls. */
export const RequestContext = {
  run<T>(scope: Partial<ContextScope>, fn: () => T): T {
    return storage.run({ auditWrites: 0, ...scope }, fn);
  },
  /** Runs `fn` inside an existing scope object (so later changes to it stay visible). */
  enter<T>(scope: ContextScope, fn: () => T): T {
    return storage.run(scope, fn);
  },
  current(): ContextScope | undefined {
    return storage.getStore();
  },
  principal(): Principal | undefined {
    return storage.getStore()?.principal;
  },
  tenantId(): string | undefined {
    const s = storage.getStore();
    return s?.principal?.tenantId ?? s?.tenantId;
  },
  setPrincipal(principal: Principal): void {
    const s = storage.getStore();
    if (s) {
      s.principal = principal;
      s.tenantId = principal.tenantId;
    }
  },
  setTenant(tenantId: string): void {
    const s = storage.getStore();
    if (s) s.tenantId = tenantId;
  },
  /** The tenant this scope's statements are limited to, if any (decision 0395). */
  dataTenant(): string | undefined {
    return storage.getStore()?.dataTenant;
  },
  /** Limits this scope's statements to one tenant's rows from now on (the API's auth guard). */
  limitDataTo(tenantId: string): void {
    const s = storage.getStore();
    if (s) s.dataTenant = tenantId;
  },
  /**
   * Runs `fn` as system work, outside the tenant limit of the caller's scope: timers, live-bus
   * listeners and other work that outlives or is shared beyond one request (a batch flushed by a
   * timer that one request armed holds every tenant's rows). The rest of the scope is kept.
   */
  detached<T>(fn: () => T): T {
    const s = storage.getStore();
    if (!s?.dataTenant) return fn();
    return storage.run({ ...s, dataTenant: undefined }, fn);
  },
};

export const SYSTEM_ACTOR = 'system';

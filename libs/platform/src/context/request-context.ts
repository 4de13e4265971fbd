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
};

export const SYSTEM_ACTOR = 'system';

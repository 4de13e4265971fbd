import type { Principal } from '../context/request-context';

/**
 * The names of the operator roles a route may require and a principal carries. Platform knows the
 * names only (they are the contract between `@MinRole` and the policy); how they rank, how a claim
 * maps to one and who holds which is governance's (`Role` in `@ampora/governance`).
 */
export type RoleName = 'Viewer' | 'Operator' | 'Admin';

/** The answer to "who sends this request?": a principal, or a refusal with its status. */
export type Authentication =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; reason: string };

/**
 * The port between platform's `AuthGuard` (and the live stream's re-checks) and whoever decides
 * access. Platform declares it and never implements it; governance binds its implementation with
 * `{ provide: AccessPolicy, useClass: ... }` in `GovernanceModule` (decision 0180).
 */
export abstract class AccessPolicy {
  /** Resolves the request's `Authorization` header to a principal; refusals are answers, not throws. */
  abstract authenticate(authorization: string | undefined): Promise<Authentication>;

  /** Whether the principal's role meets the least role a route requires. */
  abstract permits(principal: Principal, required: RoleName): boolean;
}

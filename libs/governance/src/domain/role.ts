import type { RoleName } from '@ampora/platform';

/**
 * Operator roles, per tenant. Higher includes lower. The names are platform's `RoleName` (what
 * `@MinRole` takes and a principal carries); their order, parsing and claim mapping are governance's.
 */
export const Role = { Viewer: 'Viewer', Operator: 'Operator', Admin: 'Admin' } as const satisfies { readonly [N in RoleName]: N };
export type Role = RoleName;

export const ROLE_RANK: Record<Role, number> = { [Role.Viewer]: 1, [Role.Operator]: 2, [Role.Admin]: 3 };

export const ALL_ROLES: readonly Role[] = [Role.Viewer, Role.Operator, Role.Admin];

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

export function parseRole(value: unknown): Role | undefined {
  if (typeof value !== 'string') return undefined;
  return ALL_ROLES.find((r) => r.toLowerCase() === value.trim().toLowerCase());
}

/** The highest role among the values given; unknown values are ignored. */
export function highestRole(values: unknown): Role | undefined {
  const list = Array.isArray(values) ? values : [values];
  let best: Role | undefined;
  for (const v of list) {
    const role = parseRole(v);
    if (role && (!best || ROLE_RANK[role] > ROLE_RANK[best])) best = role;
  }
  return best;
}

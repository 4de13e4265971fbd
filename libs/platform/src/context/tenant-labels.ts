/**
 * Process-wide map from tenant id to tenant name. Metric labels and log lines use the name (stable,
 * DNS-safe, readable on dashboards); the map is filled when tenants are loaded or created.
 */
const names = new Map<string, string>();

export const TenantLabels = {
  set(id: string, name: string): void {
    names.set(id, name);
  },
  /** The tenant's name, its id when the name is not known yet, or `none` without a tenant. */
  of(id: string | undefined | null): string {
    if (!id) return 'none';
    return names.get(id) ?? id;
  },
};

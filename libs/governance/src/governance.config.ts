import { defineConfigSection } from '@ampora/platform';

/** Governance's section of the configuration (AMPORA_BOOTSTRAP_ADMIN_TOKEN, AMPORA_OIDC_*): composed by the apps. */
export interface AuthConfig {
  bootstrapAdminToken?: string;
  oidc: {
    issuer?: string;
    audience?: string;
    jwksUrl?: string;
    roleClaim: string;
    tenantClaim: string;
    clockToleranceSeconds: number;
    /** The console's OIDC client (authorization code + PKCE, a public client): AMPORA_OIDC_CLIENT_ID. */
    clientId?: string;
    /** Scopes the console asks for: AMPORA_OIDC_SCOPES. */
    scopes: string;
  };
}

/** Audit retention (issue 17): the worker's `audit-archival` sweep. */
export interface AuditRetentionConfig {
  /** How often the sweep runs (AMPORA_AUDIT_SWEEP_MINUTES). */
  sweepMinutes: number;
  /** Rows older than this many days move from `audit_events` to `audit_event_archive`. */
  hotDays: number;
  /** Archive rows older than this many days are purged. */
  archiveDays: number;
  /** Rows moved or purged per transaction. */
  batchSize: number;
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    auth: AuthConfig;
    audit: AuditRetentionConfig;
  }
}

export const AUDIT_CONFIG_SECTION = defineConfigSection({
  key: 'audit',
  read: (r): AuditRetentionConfig => ({
    sweepMinutes: r.int('AMPORA_AUDIT_SWEEP_MINUTES', 60, 1, 10080),
    hotDays: r.int('AMPORA_AUDIT_HOT_DAYS', 90, 1, 36500),
    archiveDays: r.int('AMPORA_AUDIT_ARCHIVE_DAYS', 2555, 1, 36500),
    batchSize: r.int('AMPORA_AUDIT_BATCH_SIZE', 1000, 1, 100000),
  }),
});

export const GOVERNANCE_CONFIG_SECTION = defineConfigSection({
  key: 'auth',
  read: (r): AuthConfig => {
    const bootstrapAdminToken = r.string('AMPORA_BOOTSTRAP_ADMIN_TOKEN');
    if (bootstrapAdminToken !== undefined && !/^amp-pat\.[A-Z2-7]+\.[A-Z2-7]+$/.test(bootstrapAdminToken)) {
      r.fail('AMPORA_BOOTSTRAP_ADMIN_TOKEN', 'expected a personal access token of the form amp-pat.<secret>.<check>');
    }
    const issuer = r.url('AMPORA_OIDC_ISSUER', ['http', 'https']);
    const audience = r.string('AMPORA_OIDC_AUDIENCE');
    if (issuer && !audience) r.require('AMPORA_OIDC_AUDIENCE', 'when AMPORA_OIDC_ISSUER is set');
    if (r.string('AMPORA_OIDC_CLIENT_ID') && !issuer) r.require('AMPORA_OIDC_ISSUER', 'when AMPORA_OIDC_CLIENT_ID is set');
    return {
      bootstrapAdminToken,
      oidc: {
        issuer,
        audience,
        jwksUrl: r.url('AMPORA_OIDC_JWKS_URL', ['http', 'https']),
        roleClaim: r.string('AMPORA_OIDC_ROLE_CLAIM', 'ampora:role'),
        tenantClaim: r.string('AMPORA_OIDC_TENANT_CLAIM', 'tenant'),
        clockToleranceSeconds: r.int('AMPORA_OIDC_CLOCK_TOLERANCE_SECONDS', 300, 0, 3600),
        clientId: r.string('AMPORA_OIDC_CLIENT_ID'),
        scopes: r.string('AMPORA_OIDC_SCOPES', 'openid profile email'),
      },
    };
  },
});

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
  };
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    auth: AuthConfig;
  }
}

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
    return {
      bootstrapAdminToken,
      oidc: {
        issuer,
        audience,
        jwksUrl: r.url('AMPORA_OIDC_JWKS_URL', ['http', 'https']),
        roleClaim: r.string('AMPORA_OIDC_ROLE_CLAIM', 'ampora:role'),
        tenantClaim: r.string('AMPORA_OIDC_TENANT_CLAIM', 'tenant'),
        clockToleranceSeconds: r.int('AMPORA_OIDC_CLOCK_TOLERANCE_SECONDS', 300, 0, 3600),
      },
    };
  },
});

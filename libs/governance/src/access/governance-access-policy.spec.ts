import type { Principal } from '@ampora/platform';
import { Role } from '../domain/role';
import type { TokenService } from '../tokens/token.service';
import { GovernanceAccessPolicy } from './governance-access-policy';
import type { OidcVerifier } from './oidc.verifier';

const operator: Principal = { kind: 'pat', tenantId: 't1', tenantName: 'default', role: Role.Operator, actor: 'ci', tokenId: 'k1' };

function policy(options: { pat?: Principal; oidcEnabled?: boolean } = {}) {
  const seen: string[] = [];
  const tokens = { authenticate: async (t: string) => (seen.push(`pat:${t}`), options.pat) } as unknown as TokenService;
  const oidc = {
    enabled: options.oidcEnabled ?? false,
    verify: async (t: string) => (seen.push(`oidc:${t}`), { ok: false, status: 403, reason: 'no role' }),
  } as unknown as OidcVerifier;
  return { access: new GovernanceAccessPolicy(tokens, oidc), seen };
}

describe('GovernanceAccessPolicy', () => {
  it('asks for a bearer token when the header is missing or not Bearer', async () => {
    const { access, seen } = policy({ pat: operator });
    for (const header of [undefined, '', 'Basic abc', 'Bearer']) {
      expect(await access.authenticate(header)).toEqual({ ok: false, status: 401, reason: 'Send Authorization: Bearer <token>' });
    }
    expect(seen).toEqual([]);
  });

  it('resolves a PAT through the token service, and refuses an unknown one with 401', async () => {
    expect(await policy({ pat: operator }).access.authenticate('bearer amp-pat.abc.def ')).toEqual({ ok: true, principal: operator });
    expect(await policy().access.authenticate('Bearer amp-pat.abc.def')).toMatchObject({ ok: false, status: 401 });
  });

  it('sends other tokens to OIDC only when it is configured', async () => {
    const off = policy();
    expect(await off.access.authenticate('Bearer eyJ.x.y')).toEqual({ ok: false, status: 401, reason: 'The bearer token is not a personal access token' });
    expect(off.seen).toEqual([]);
    const on = policy({ oidcEnabled: true });
    expect(await on.access.authenticate('Bearer eyJ.x.y')).toEqual({ ok: false, status: 403, reason: 'no role' });
    expect(on.seen).toEqual(['oidc:eyJ.x.y']);
  });

  it('permits a role at or above the required one', () => {
    const { access } = policy();
    expect(access.permits(operator, Role.Viewer)).toBe(true);
    expect(access.permits(operator, Role.Operator)).toBe(true);
    expect(access.permits(operator, Role.Admin)).toBe(false);
  });
});

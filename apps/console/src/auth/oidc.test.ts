import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { authorizationUrl, randomToken, chooseBearer, completeOidcSignIn, jwtPayload, OidcSignInInfo, s256Challenge, startOidcSignIn } from './oidc';

const jwt = (payload: Record<string, unknown>) => `h.${btoa(JSON.stringify(payload)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.s`;

const info: OidcSignInInfo = {
  issuer: 'https://idp.example.com',
  clientId: 'ampora-console',
  scopes: 'openid profile email',
  audience: 'ampora-api',
  authorizationEndpoint: 'https://idp.example.com/authorize?tenant=x',
  tokenEndpoint: 'https://idp.example.com/token',
  endSessionEndpoint: 'https://idp.example.com/logout',
};

describe('PKCE and token choice', () => {
  it('computes the S256 challenge as base64url(SHA-256(verifier)) without padding', async () => {
    for (const verifier of ['dBjftJeZ4CVP-mA3fTkDc8fTwbRfZuURQhpTtPgh9Kc', randomToken(32), randomToken(64)]) {
      expect(await s256Challenge(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
    }
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('builds the authorization request, keeping the endpoint\'s own parameters', () => {
    const url = new URL(authorizationUrl(info, { redirectUri: 'http://c/sign-in/callback', state: 'st', nonce: 'no', challenge: 'ch' }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 'x',
      response_type: 'code',
      client_id: 'ampora-console',
      redirect_uri: 'http://c/sign-in/callback',
      scope: 'openid profile email',
      state: 'st',
      nonce: 'no',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });

  it('sends the access token when it is for the API, else the ID token, else nothing', () => {
    const access = jwt({ aud: ['ampora-api', 'other'] });
    const id = jwt({ aud: 'ampora-api' });
    expect(chooseBearer({ access_token: access, id_token: jwt({ aud: 'ampora-console' }) }, 'ampora-api')).toBe(access);
    expect(chooseBearer({ access_token: 'opaque-token', id_token: id }, 'ampora-api')).toBe(id);
    expect(chooseBearer({ access_token: 'opaque', id_token: jwt({ aud: 'ampora-console' }) }, 'ampora-api')).toBeNull();
    expect(jwtPayload('not.a-jwt')).toBeNull();
  });
});

describe('the sign-in round trip', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  async function started(): Promise<URL> {
    let target = '';
    await startOidcSignIn(info, '/t/default/fleet', (u) => (target = u));
    return new URL(target);
  }

  it('exchanges the code with the verifier whose challenge it sent, and checks the nonce', async () => {
    const url = await started();
    const sent = Object.fromEntries(url.searchParams);
    expect(sessionStorage.getItem('ampora.oidc-flow')).not.toBeNull();
    let form: URLSearchParams | undefined;
    globalThis.fetch = (async (u: string, init?: RequestInit) => {
      expect(u).toBe(info.tokenEndpoint);
      form = new URLSearchParams(String(init!.body));
      return new Response(JSON.stringify({ access_token: jwt({ aud: 'ampora-api' }), id_token: jwt({ aud: 'ampora-console', nonce: sent.nonce }) }), { status: 200 });
    }) as typeof fetch;
    const done = await completeOidcSignIn(`?code=c0de&state=${sent.state}`);
    expect(form!.get('code')).toBe('c0de');
    expect(form!.get('client_id')).toBe('ampora-console');
    expect(await s256Challenge(form!.get('code_verifier')!)).toBe(sent.code_challenge);
    expect(done.credential.kind).toBe('oidc');
    expect(jwtPayload(done.credential.token)!.aud).toBe('ampora-api');
    expect(done.credential.signOutUrl).toContain('https://idp.example.com/logout?client_id=ampora-console');
    expect(done.from).toBe('/t/default/fleet');
    // the flow is consumed: the same answer cannot be replayed
    await expect(completeOidcSignIn(`?code=c0de&state=${sent.state}`)).rejects.toMatchObject({ code: 'OIDC_NO_FLOW' });
  });

  it('refuses an answer with another state, a refusal, and an ID token with another nonce', async () => {
    await started();
    await expect(completeOidcSignIn('?code=x&state=forged')).rejects.toMatchObject({ code: 'OIDC_STATE_MISMATCH' });
    const state = new URL(await started().then((u) => u.toString())).searchParams.get('state');
    await expect(completeOidcSignIn(`?error=access_denied&error_description=No&state=${state}`)).rejects.toMatchObject({ code: 'access_denied' });
    const again = await started();
    globalThis.fetch = (async () => new Response(JSON.stringify({ access_token: jwt({ aud: 'ampora-api' }), id_token: jwt({ nonce: 'someone-else' }) }))) as typeof fetch;
    await expect(completeOidcSignIn(`?code=c&state=${again.searchParams.get('state')}`)).rejects.toMatchObject({ code: 'OIDC_NONCE_MISMATCH' });
    const fourth = await started();
    globalThis.fetch = (async () => new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'code_verifier does not match' }), { status: 400 })) as typeof fetch;
    await expect(completeOidcSignIn(`?code=c&state=${fourth.searchParams.get('state')}`)).rejects.toMatchObject({ code: 'invalid_grant' });
  });
});

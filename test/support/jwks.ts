import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWTPayload, SignJWT } from 'jose';

export interface TestIdp {
  issuer: string;
  /** Signs a JWT with the IdP's key (or another key with the same kid, to forge a bad signature). */
  sign(claims: JWTPayload, options?: { expiresIn?: string | number; issuer?: string; audience?: string; forge?: boolean }): Promise<string>;
  /**
   * Who `/authorize` signs in (there is no login form: the test decides): its claims go into the ID
   * token and the access token of the code it hands out. Without a user, `/authorize` answers
   * `error=access_denied` to the redirect URI.
   */
  signInAs(claims: JWTPayload | undefined): void;
  /** The token requests the IdP answered or refused, newest last (for assertions). */
  readonly tokenRequests: Array<{ grantType?: string; clientId?: string; outcome: string }>;
  close(): Promise<void>;
}

export interface TestIdpOptions {
  /** The public client the console signs in as; `/authorize` and `/token` refuse any other. */
  clientId?: string;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  claims: JWTPayload;
  expiresAt: number;
}

/**
 * A minimal OIDC issuer on loopback: discovery document and JWKS, RS256 keys made here, and the
 * authorization-code flow with PKCE (S256 only) for a public client: `/authorize` redirects at once
 * with a code for the user the test chose, `/token` exchanges it once, checking the verifier, the
 * client and the redirect URI, and answers with CORS headers as a browser-facing issuer must.
 */
export async function startTestIdp(audience: string, options: TestIdpOptions = {}): Promise<TestIdp> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const forger = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, IssuedCode>();
  const tokenRequests: TestIdp['tokenRequests'] = [];
  let user: JWTPayload | undefined;
  let issuer = '';

  const sign: TestIdp['sign'] = async (claims, o = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt()
      .setIssuer(o.issuer ?? issuer)
      .setAudience(o.audience ?? audience)
      .setExpirationTime(o.expiresIn ?? '5m');
    return jwt.sign(o.forge ? forger.privateKey : privateKey);
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(body));
  };

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri');
    if (!redirectUri || q.get('client_id') !== options.clientId) return json(res, 400, { error: 'invalid_request', error_description: 'unknown client or no redirect_uri' });
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state) back.searchParams.set('state', state);
    const challenge = q.get('code_challenge');
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !challenge) {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', 'code flow with an S256 code_challenge only');
    } else if (!user) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user refused');
    } else {
      const code = randomBytes(24).toString('base64url');
      codes.set(code, { clientId: options.clientId!, redirectUri, challenge, nonce: q.get('nonce') ?? undefined, claims: user, expiresAt: Date.now() + 60_000 });
      back.searchParams.set('code', code);
    }
    res.statusCode = 302;
    res.setHeader('location', back.toString());
    res.end();
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const form = new URLSearchParams(body);
    const grantType = form.get('grant_type') ?? undefined;
    const clientId = form.get('client_id') ?? undefined;
    const refuse = (error: string, outcome: string) => {
      tokenRequests.push({ grantType, clientId, outcome });
      json(res, 400, { error, error_description: outcome });
    };
    if (grantType !== 'authorization_code') return refuse('unsupported_grant_type', 'not authorization_code');
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code);
    if (!issued || issued.expiresAt < Date.now()) return refuse('invalid_grant', 'unknown, used or expired code');
    if (clientId !== issued.clientId) return refuse('invalid_client', 'another client');
    if (form.get('redirect_uri') !== issued.redirectUri) return refuse('invalid_grant', 'another redirect_uri');
    const verifier = form.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge) return refuse('invalid_grant', 'code_verifier does not match');
    tokenRequests.push({ grantType, clientId, outcome: 'issued' });
    const idToken = await sign({ ...issued.claims, ...(issued.nonce ? { nonce: issued.nonce } : {}) }, { audience: issued.clientId });
    const accessToken = await sign({ ...issued.claims, client_id: issued.clientId, scope: 'openid profile email' }, { audience });
    json(res, 200, { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: 300 });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    // the browser calls discovery and the token endpoint from the console's origin
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'GET, POST');
      res.setHeader('access-control-allow-headers', 'content-type');
      res.statusCode = 204;
      return res.end();
    }
    if (url.pathname === '/.well-known/openid-configuration') {
      json(res, 200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        ...(options.clientId
          ? { authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] }
          : {}),
      });
    } else if (url.pathname === '/jwks') {
      json(res, 200, { keys: [jwk] });
    } else if (options.clientId && url.pathname === '/authorize' && req.method === 'GET') {
      authorize(url, res);
    } else if (options.clientId && url.pathname === '/token' && req.method === 'POST') {
      token(req, res).catch(() => json(res, 500, { error: 'server_error' }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    sign,
    signInAs: (claims) => (user = claims),
    tokenRequests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

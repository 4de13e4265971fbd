import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWTPayload, SignJWT } from 'jose';

export interface TestIdp {
  issuer: string;
  /** Signs a JWT with the IdP's key (or another key with the same kid, to forge a bad signature). */
  sign(claims: JWTPayload, options?: { expiresIn?: string | number; issuer?: string; audience?: string; forge?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** A minimal OIDC issuer on loopback: discovery document and JWKS, RS256 keys made here. */
export async function startTestIdp(audience: string): Promise<TestIdp> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const forger = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    async sign(claims, options = {}) {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuedAt()
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setExpirationTime(options.expiresIn ?? '5m');
      return jwt.sign(options.forge ? forger.privateKey : privateKey);
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

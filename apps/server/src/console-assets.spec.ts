import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_PAGE, consoleHeaders, findConsoleDir, originOf } from './console-assets';

describe('the console mount', () => {
  it('answers the page for the console routes only, never for the API, docs, OpAMP, metrics or probes', () => {
    for (const p of ['/', '/sign-in', '/sign-in/callback', '/t/default', '/t/default/fleet', '/t/acme/rollouts/1b7e']) expect(CONSOLE_PAGE.test(p)).toBe(true);
    for (const p of ['/api', '/api/agents', '/docs', '/docs/', '/openapi.json', '/v1/opamp', '/metrics', '/health', '/healthz', '/readyz', '/livez', '/t', '/t/', '/assets/x.js', '/signin', '/sign-inx'])
      expect(CONSOLE_PAGE.test(p)).toBe(false);
  });

  it('finds dist/console/index.html above a directory, and nothing when there is no build', () => {
    const root = mkdtempSync(join(tmpdir(), 'ampora-console-'));
    mkdirSync(join(root, 'dist', 'console'), { recursive: true });
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    expect(findConsoleDir(join(root, 'a', 'b', 'c'))).toBeUndefined();
    writeFileSync(join(root, 'dist', 'console', 'index.html'), '<!doctype html>');
    expect(findConsoleDir(join(root, 'a', 'b', 'c'))).toBe(join(root, 'dist', 'console'));
  });

  it('sends the page with a same-origin content security policy and no framing', () => {
    const h = consoleHeaders();
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).toContain("connect-src 'self'");
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['x-frame-options']).toBe('DENY');
    expect(h['cache-control']).toBe('no-cache');
  });

  it('lets the page connect to the OIDC issuer\'s origins, once each, and nothing else', () => {
    const origins = [...originOf('https://idp.example.com/realms/x'), ...originOf('https://idp.example.com/token'), ...originOf('https://tokens.example.net/oauth2/token'), ...originOf('not a url')];
    expect(consoleHeaders(origins)['content-security-policy']).toContain("connect-src 'self' https://idp.example.com https://tokens.example.net;");
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';

/**
 * The console's own paths (decision 0340): `/`, `/sign-in…` and everything under `/t/<tenant>/`
 * answer the single page; its files are under `/assets/`. Nothing else is touched, so /api, /docs,
 * /openapi.json, /v1/opamp, /metrics and the health probes answer exactly as without the console.
 */
export const CONSOLE_PAGE = /^\/(?:$|sign-in(?:\/.*)?$|t\/.+)/;

/** Where `npm run build` put the console: dist/console above this file (source or built server). */
export function findConsoleDir(from = __dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 7; i++) {
    const candidate = join(dir, 'dist', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The page's security headers: same-origin scripts and API calls only (plus the OIDC issuer's
 * origins when the console signs in there, decision 0385), no framing, no referrer.
 */
export function consoleHeaders(connectOrigins: string[] = []): Record<string, string> {
  const connect = ["'self'", ...new Set(connectOrigins)].join(' ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy':
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src ${connect}; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/**
 * Serves the built console: hashed files under /assets/ (cached for a year), the favicon, and the
 * page for the console's client routes. Without a build (tests of the API, `nest start` from source)
 * it serves nothing and says so once.
 */
export function mountConsole(
  app: INestApplication,
  dir = findConsoleDir(),
  warn: (message: string) => void = () => undefined,
  connectOrigins: () => string[] = () => [],
): boolean {
  if (!dir) {
    warn('The web console is not built (dist/console): run npm run build to serve it at /');
    return false;
  }
  const page = readFileSync(join(dir, 'index.html'));
  app.use('/assets', express.static(join(dir, 'assets'), { index: false, immutable: true, maxAge: '365d', fallthrough: true }));
  app.use('/favicon.svg', express.static(join(dir, 'favicon.svg'), { maxAge: '1d' }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !CONSOLE_PAGE.test(req.path)) return next();
    res.status(200).set(consoleHeaders(connectOrigins()));
    if (req.method === 'HEAD') return res.end();
    res.end(page);
  });
  return true;
}

/** The origin of a URL, or nothing for a value that is not one. */
export function originOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    return [new URL(url).origin];
  } catch {
    return [];
  }
}

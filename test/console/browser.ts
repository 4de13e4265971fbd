import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { REPO_ROOT } from '@ampora/testing';

/** Debian's chromium (installed by .ci/run), headless, with a fresh profile per run. */
export const CHROMIUM = '/usr/bin/chromium';
/**
 * Where each page's screenshot goes: under .test-results/ on every run, so a test run leaves the work
 * tree clean; `AMPORA_SCREENSHOTS=docs` refreshes the README's pictures in docs/console/ instead.
 */
export const SCREENSHOTS = process.env.AMPORA_SCREENSHOTS === 'docs' ? join(REPO_ROOT, 'docs', 'console') : join(REPO_ROOT, '.test-results', 'console');

export interface Browser {
  context: BrowserContext;
  /** Console errors and page errors of every page opened (a test expects none). */
  errors: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'ampora-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => (m.type() === 'error' ? errors.push(`console: ${m.text()}`) : undefined));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    errors,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now (rule id and the first targets). */
export async function seriousViolations(page: Page): Promise<string[]> {
  // evaluated over the DevTools protocol, which the page's content security policy does not govern
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE);
  // evaluated in the page (a string: this file is compiled without the DOM library)
  const found = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')))`)) as string[];
  return found;
}

/** Writes docs/console/<name>.png (full page). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

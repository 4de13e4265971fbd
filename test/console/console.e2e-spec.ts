import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { eventually, REPO_ROOT } from '@ampora/testing';
import { Api, apiClient, assignGroup, collectorYaml, createStaticGroup, enrollAgents, expectStatus, publishVersions, SimAgent } from '../support/rollout-kit';
import { createToken, startTestServer, TestServer } from '../support/test-server';
import { startTestIdp, TestIdp } from '../support/jwks';
import { Browser, launchChromium, screenshot, seriousViolations } from './browser';

/**
 * The web console in headless Chromium against the real server (with the worker's modules), real
 * PostgreSQL and Redis, and simulated OpAMP agents: what an operator does, end to end. Needs
 * `npm run build` (the console is served from dist/console).
 */
describe('the web console in a browser', () => {
  let server: TestServer;
  let api: Api;
  let browser: Browser;
  let page: Page;
  const sims: SimAgent[] = [];
  let operatorToken: string;
  let canaryGroup: { id: string; name: string };
  let configName: string;
  let driftAgent: SimAgent;
  let idp: TestIdp;
  let firstVersion: { configurationId: string; configHash: string };

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'console', 'index.html'))) throw new Error('the console is not built: npm run build first');
    // a real OIDC issuer with the authorization-code + PKCE flow, for the console's single sign-on
    idp = await startTestIdp('ampora-api', { clientId: 'ampora-console' });
    server = await startTestServer({
      withWorker: true,
      env: {
        AMPORA_ROLLOUT_TICK_MS: '300',
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        AMPORA_FLEET_DISPATCH_RATE: '1000',
        AMPORA_OIDC_ISSUER: idp.issuer,
        AMPORA_OIDC_AUDIENCE: 'ampora-api',
        AMPORA_OIDC_CLIENT_ID: 'ampora-console',
      },
    });
    api = apiClient(server.url, server.adminToken);
    const wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
    configName = `payments-${Date.now().toString(36)}`;
    const [v1] = await publishVersions(api, [collectorYaml('console-v1')], configName);
    firstVersion = v1!;
    canaryGroup = await createStaticGroup(api, 'canary-fleet');
    const driftGroup = await createStaticGroup(api, 'drift-lab');
    await assignGroup(api, canaryGroup.id, v1!);
    await assignGroup(api, driftGroup.id, v1!);
    sims.push(...(await enrollAgents(api, wsUrl, 4, { groupId: canaryGroup.id, hostPrefix: 'edge', labels: () => ({ env: 'prod' }) })));
    [driftAgent] = await enrollAgents(api, wsUrl, 1, { groupId: driftGroup.id, hostPrefix: 'lab', labels: () => ({ env: 'lab', role: 'drifty' }) });
    sims.push(driftAgent!);
    await eventually(() => sims.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
    // someone changed this collector by hand: it runs an extra exporter
    const handmade = collectorYaml('console-v1').replace('exporters: [debug/console-v1]', 'exporters: [debug/console-v1, otlp/handmade]').replace('  debug/console-v1: {}\n', '  debug/console-v1: {}\n  otlp/handmade: {}\n');
    driftAgent!.agent.reportEffective(handmade);
    await eventually(async () => {
      const drift = (await expectStatus(api, 'GET', `/api/agents/${driftAgent!.id}/drift`, 200)).body;
      if (drift.drift !== true) throw new Error(`drift is ${JSON.stringify(drift.drift)}: ${drift.reason}`);
      return true;
    }, 10000);
    operatorToken = await createToken(server, 'Operator');
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(15000);
  }, 90000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(sims.map((s) => s.close()));
    await server?.close();
    await idp?.close();
  });

  const at = (path: string) => `${server.url}${path}`;

  async function accessible(name: string): Promise<void> {
    await screenshot(page, name);
    expect({ page: name, violations: await seriousViolations(page) }).toEqual({ page: name, violations: [] });
  }

  async function signIn(p: Page, token: string): Promise<void> {
    await p.goto(at('/'));
    await p.getByLabel('Personal access token').fill(token);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }

  it('signs in with a token kept out of the URL, and shows the role and tenant', async () => {
    await page.goto(at('/'));
    await page.getByRole('heading', { name: 'Sign in to Ampora' }).waitFor();
    await accessible('sign-in');
    await signIn(page, server.adminToken);
    expect(page.url()).toBe(at('/t/default'));
    expect(page.url()).not.toContain(server.adminToken);
    expect(await page.getByTestId('role-chip').textContent()).toBe('Admin');
    expect(await page.evaluate("sessionStorage.getItem('ampora.credential')")).toContain('amp-pat');
    expect(await page.evaluate("JSON.stringify(localStorage).includes('amp-pat')")).toBe(false);
    await page.getByText('5', { exact: true }).first().waitFor();
    await accessible('dashboard');
  });

  it('finds an agent by label and shows its drift side by side', async () => {
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByLabel('Label').fill('role=drifty');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/label=role%3Ddrifty/);
    const rows = page.getByRole('table', { name: 'Agents' }).locator('tbody tr');
    await eventually(async () => (await rows.count()) === 1, 10000);
    expect(await rows.first().textContent()).toContain('lab-000');
    await accessible('fleet');
    await rows.first().getByRole('link', { name: 'lab-000' }).click();
    await page.getByTestId('drift-verdict').getByText('drift', { exact: true }).waitFor();
    const diff = page.getByRole('figure', { name: 'Assigned versus effective configuration' });
    expect(await diff.locator('[data-diff="changed"], [data-diff="added"]').count()).toBeGreaterThan(0);
    expect(await diff.locator('td.ins').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('otlp/handmade')]));
    await accessible('agent-drift');
  });

  it('shows an invalid configuration\'s error at its line, then publishes the fixed one', async () => {
    await page.getByRole('link', { name: 'Configurations' }).click();
    await page.getByRole('link', { name: configName }).click();
    await page.getByRole('button', { name: 'New version' }).click();
    const editor = page.locator('.cm-content');
    await editor.waitFor();
    const invalid = collectorYaml('console-v2').replace('exporters: [debug/console-v2]', 'exporters: [debug/console-v2, otlp/missing]');
    const line = invalid.split('\n').findIndex((l) => l.includes('otlp/missing')) + 1;
    await editor.fill(invalid);
    const findings = page.getByRole('list', { name: 'Findings' });
    await findings.getByText(`line ${line}`).waitFor({ timeout: 15000 });
    expect(await findings.textContent()).toContain('UNDEFINED_COMPONENT');
    await page.locator('.cm-lint-marker-error').first().waitFor();
    await accessible('configuration-editor');
    await editor.fill(collectorYaml('console-v2'));
    await page.getByText('No findings: the configuration is valid.').waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('button', { name: 'Publish v2' }).click();
    await page.getByRole('button', { name: 'Archive v2' }).waitFor();
    await page.getByRole('img', { name: /Pipelines of the configuration/ }).waitFor();
  });

  it('starts a canary rollout in the wizard and watches it complete without a reload', async () => {
    await page.getByRole('link', { name: 'Rollouts' }).click();
    await page.getByRole('button', { name: 'New rollout' }).click();
    await page.getByLabel('Name').fill('payments v2 canary');
    await page.getByLabel('Configuration').selectOption({ label: configName });
    await page.getByLabel('Published version').selectOption({ label: 'v2' });
    await page.getByLabel('Group').selectOption({ label: 'canary-fleet (4 agents)' });
    await page.getByLabel(/^Steps/).fill('25:0, 100');
    await accessible('rollout-wizard');
    await page.getByRole('button', { name: 'Create rollout' }).click();
    await page.waitForURL(/\/rollouts\/[0-9a-f-]{36}$/);
    // a reload would lose this
    await page.evaluate('window.marker = 42');
    await page.getByTestId('rollout-state').getByText(/State: Completed/).waitFor({ timeout: 45000 });
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(await page.getByRole('progressbar').first().getAttribute('aria-valuenow')).toBe('100');
    expect(await page.getByRole('list').filter({ hasText: 'rollout.' }).count()).toBeGreaterThan(0);
    await accessible('rollout');
  });

  it('assigns a version to the selected agents in one bulk action, confirmed with the count', async () => {
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByLabel('Label').fill('env=prod');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/label=env%3Dprod/);
    const rows = page.getByRole('table', { name: 'Agents' }).locator('tbody tr');
    await eventually(async () => (await rows.count()) === 4, 10000);
    await page.getByLabel('Select every agent on this page').check();
    await page.getByText('4 agents selected').waitFor();
    await page.getByLabel('Configuration to assign').selectOption({ label: configName });
    await page.getByLabel('Version to assign').selectOption({ label: 'v1' });
    await page.getByRole('button', { name: 'Assign to selected' }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.getByRole('heading').textContent()).toBe(`Assign ${configName} v1 to 4 agents?`);
    await accessible('fleet-bulk-assign');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText(`Assigned ${configName} v1 to 4 agents (4 changed).`).waitFor();
    // the API agrees, and the agents run it
    const edge = sims.filter((s) => s !== driftAgent);
    for (const s of edge) {
      const d = (await expectStatus(api, 'GET', `/api/agents/${s.id}`, 200)).body;
      expect(d.assignment).toMatchObject({ source: 'direct', configurationId: firstVersion.configurationId, version: 1 });
    }
    await eventually(() => edge.every((s) => s.agent.appliedHash?.toString('hex') === firstVersion.configHash), 20000);
    const audit = (await expectStatus(api, 'GET', '/api/audit/events?entityType=Agent&entityId=bulk&action=ConfigAssigned', 200)).body.items;
    expect(audit[0].additional.count).toBe(4);
  });

  it('shows the federation peers and certificate to an Admin', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Federation' }).click();
    await page.getByRole('heading', { name: 'Federation', level: 1 }).waitFor();
    await page.getByText('No peer registered.').waitFor();
    await page.getByLabel('Subject').fill('ampora-console-test');
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await page.getByLabel('Federation certificate PEM').getByText(/BEGIN CERTIFICATE/).waitFor();
    await page.getByRole('table', { name: 'Federation certificates' }).getByText('ampora-console-test').waitFor();
    await accessible('federation');
  });

  it('shows the audit events of what was done', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit events' });
    await table.getByText('Rollout').first().waitFor();
    const text = await table.textContent();
    expect(text).toContain('ConfigurationVersion');
    await table.getByRole('button', { name: 'Show before/after' }).first().click();
    await page.getByRole('figure').first().waitFor();
    await accessible('audit');
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('table', { name: 'Groups' }).getByText('canary-fleet').waitFor();
    await accessible('groups');
  });

  it('signs in at the identity provider with the authorization code and PKCE', async () => {
    const info = (await server.http.get('/api/auth/oidc').expect(200)).body;
    expect(info).toEqual({
      enabled: true,
      issuer: idp.issuer,
      clientId: 'ampora-console',
      scopes: 'openid profile email',
      audience: 'ampora-api',
      authorizationEndpoint: `${idp.issuer}/authorize`,
      tokenEndpoint: `${idp.issuer}/token`,
      endSessionEndpoint: null,
    });
    // the page may call the issuer's token endpoint, and nothing else off its origin
    const csp = (await server.http.get('/sign-in').expect(200)).headers['content-security-policy'] as string;
    expect(csp).toContain(`connect-src 'self' ${idp.issuer};`);

    const sso = await browser.newPage();
    idp.signInAs(undefined);
    await sso.goto(at('/sign-in'));
    await sso.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    // the user refused at the issuer: the console says so, with the issuer's reason
    await sso.getByRole('alert').getByText('The user refused').waitFor();
    expect(await sso.evaluate("sessionStorage.getItem('ampora.credential')")).toBeNull();
    idp.signInAs({ sub: 'olivia@example.com', tenant: 'default', 'ampora:role': ['Viewer', 'Operator'] });
    await sso.goto(at('/t/default/fleet'));
    await sso.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    await sso.getByRole('heading', { name: 'Fleet' }).waitFor();
    // back where the user was going, with the code and state gone from the URL
    expect(sso.url()).toBe(at('/t/default/fleet'));
    expect(await sso.getByTestId('role-chip').textContent()).toBe('Operator');
    await sso.getByText('olivia@example.com').waitFor();
    const stored = JSON.parse((await sso.evaluate("sessionStorage.getItem('ampora.credential')")) as string);
    expect(stored.kind).toBe('oidc');
    expect(JSON.parse(Buffer.from(stored.token.split('.')[1], 'base64url').toString()).aud).toBe('ampora-api');
    expect(await sso.evaluate("sessionStorage.getItem('ampora.oidc-flow')")).toBeNull();
    // the code was exchanged once, with a verifier the issuer checked against the challenge
    expect(idp.tokenRequests).toEqual([{ grantType: 'authorization_code', clientId: 'ampora-console', outcome: 'issued' }]);
    // the API took the OIDC token: the Fleet page listed the agents
    await sso.getByRole('table', { name: 'Agents' }).getByRole('link', { name: 'edge-000' }).waitFor();
    await sso.close();
  });

  it('hides Admin-only actions from an Operator', async () => {
    const op = await browser.newPage();
    await signIn(op, operatorToken);
    expect(await op.getByTestId('role-chip').textContent()).toBe('Operator');
    const nav = op.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'PKI' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Federation' }).count()).toBe(0);
    await op.goto(at('/t/default/tokens'));
    await op.getByText('This page needs the Admin role.').waitFor();
    await op.goto(at('/t/default/policies'));
    await op.getByRole('heading', { name: 'Dry run' }).waitFor();
    expect(await op.getByRole('heading', { name: 'New policy (Admin)' }).count()).toBe(0);
    await op.close();
    expect(browser.errors).toEqual([]);
  });
});

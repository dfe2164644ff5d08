import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryResponse, GrantResponse, NodeResponse, SigningRequestResponse } from '#api';
import { generateIdentity } from '#crypto';
import { initKeystore, KDF_COSTS, runDealer, type SignerNode } from '#signer';
import { allowAllPolicy, testPolicy } from '../libs/signer/src/testing/test-policy.js';
import { ensureConsoleBuilt, hasChromium, launchChromium } from './support/console-browser.js';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { createPrincipal } from './support/principals.js';
import { realSignerNode } from './support/signer-node.js';

if (!hasChromium()) console.warn('console.e2e-spec: /usr/bin/chromium is absent (apt-get install chromium): the browser tests are skipped');

const sel = (name: string) => `[data-test="${name}"]`;

/**
 * The web console in real (headless) Chromium against the real coordinator, database and three real
 * signer nodes (two approve by policy, one declines): sign in (a bad key refused, a good one in), find a
 * request and read each node's signed decision, revoke a grant, export the audit log; an auditor gets no
 * revoke button, and a forged POST without the CSRF token is refused 403 even for an admin's cookie.
 */
describe.skipIf(!hasChromium())('the web console in Chromium', () => {
  let coord: TestCoordinator;
  let browser: Browser;
  const root = join(tmpdir(), `roundtable-console-${process.pid}-${Date.now()}`);
  const nodes: SignerNode[] = [];
  let requestId: string;
  let grantId: string;
  let spareGrantId: string;
  let auditorKey: string;
  let keyId = '';
  /** Everything the pages logged as an error (a CSP violation, an uncaught exception). */
  const pageErrors: string[] = [];

  const newPage = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    page.on('console', (m) => {
      // 401 and 403 answers are expected (a refused sign-in, the session check before it); anything else is not.
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return { context, page };
  };

  const signIn = async (page: Page, key: string): Promise<void> => {
    await page.fill(sel('api-key'), key);
    await page.click(sel('sign-in'));
  };

  const grant = async (label: string): Promise<string> => {
    const res = await coord.api('POST', '/v1/grants', {
      keyId,
      grantee: { kind: 'ed25519', publicKey: generateIdentity().publicKey },
      label,
      validUntil: Date.now() + 3_600_000,
      scope: { kinds: ['text'], maxRequests: 5 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = GrantResponse.parse(res.body).id;
    for (let i = 0; i < 200; i++) {
      if (GrantResponse.parse((await coord.api('GET', `/v1/grants/${id}`)).body).status === 'active') return id;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`grant ${label} did not become active`);
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    coord = await startTestCoordinator();
    const keystores = [1, 2, 3].map((i) => join(root, `node-${i}`));
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: `console ${i}`, kdfCost: KDF_COSTS.test });
      NodeResponse.parse((await coord.api('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).body);
    }
    for (const [i, dir] of keystores.entries()) {
      const policy = i < 2 ? allowAllPolicy() : testPolicy('deny', 'deny-all');
      if (i < 2) policy.answerGrants('allow');
      const node = realSignerNode(coord, dir, `console ${i}`, { policy });
      await node.start();
      nodes.push(node);
    }
    for (let i = 0; i < 200; i++) {
      if ((await coord.api<{ connected: boolean }[]>('GET', '/v1/nodes')).body.filter((n) => n.connected).length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    keyId = (await runDealer({ coordinatorUrl: coord.httpUrl, adminToken: ADMIN_TOKEN, suite: 'secp256k1', threshold: 2, keystores })).keyId;
    const created = await coord.api('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text: 'pay 5 to the console test' }, description: 'console e2e' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    requestId = SigningRequestResponse.parse(created.body).id;
    for (let i = 0; i < 100; i++) {
      const view = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${requestId}?waitMs=1000`)).body);
      if (view.status === 'completed' && view.decisions.every((d) => d.decision !== null)) break;
    }
    grantId = await grant('console revoke me');
    spareGrantId = await grant('console keep me');
    auditorKey = (await createPrincipal(coord, 'console-e2e-auditor', 'auditor')).apiKey;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the console with its CSP; refuses a bad key with its code; signs in with a good one', async () => {
    const { context, page } = await newPage();
    const res = await page.goto(`${coord.httpUrl}/console/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    await signIn(page, `rt_${'A'.repeat(43)}`);
    const error = page.locator(sel('error'));
    await error.waitFor();
    expect(await error.textContent()).toContain('UNAUTHORIZED');
    await signIn(page, ADMIN_TOKEN);
    await page.locator(sel('whoami')).waitFor();
    expect(await page.locator(sel('whoami')).textContent()).toContain('admin');
    // The cookie is httpOnly: the page's script cannot read it.
    expect(await page.evaluate('document.cookie')).toBe('');
    expect((await context.cookies()).find((c) => c.name === 'rt_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    // A reload keeps the session (the CSRF token is asked for again).
    await page.reload();
    await page.locator(sel('whoami')).waitFor();
    await context.close();
  });

  it('finds the request and reads each node\'s signed decision, its hashes and the signature', async () => {
    const { context, page } = await newPage();
    await page.goto(`${coord.httpUrl}/console/`);
    await signIn(page, ADMIN_TOKEN);
    const row = page.locator(`${sel('request-row')}[data-id="${requestId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('console e2e');
    await row.locator('a').first().click();
    await page.locator(sel('request-page')).waitFor();
    expect(await page.locator(sel('request-id')).textContent()).toBe(requestId);
    const api = SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${requestId}`)).body);
    const verdicts: Record<string, string> = {};
    for (const label of ['node-1', 'node-2', 'node-3']) {
      const decision = page.locator(`${sel('decision-row')}[data-node="${label}"]`);
      verdicts[label] = (await decision.locator(sel('verdict')).textContent()) ?? '';
    }
    expect(verdicts).toEqual({ 'node-1': 'approve', 'node-2': 'approve', 'node-3': 'decline' });
    const text = (await page.locator(sel('request-page')).textContent()) ?? '';
    expect(api.signature).not.toBeNull();
    for (const value of [api.intentHash!, api.digest, api.signature!, ...api.decisions.map((d) => d.decision!.signature)]) expect(text).toContain(value);
    expect(await page.locator(sel('attempt')).count()).toBe(api.attempts.length);
    await context.close();
  });

  it('revokes a grant, exports the audit log with the revocation in it, and verifies the chain', async () => {
    const { context, page } = await newPage();
    await page.goto(`${coord.httpUrl}/console/#/grants`);
    await signIn(page, ADMIN_TOKEN);
    const card = page.locator(`${sel('grant')}[data-id="${grantId}"]`);
    await card.waitFor();
    expect(await card.locator(sel('usage')).first().textContent()).toBe('0 / 5');
    await card.locator(sel('revoke')).click();
    await card.locator(sel('revoke-reason')).fill('revoked in the console');
    await card.locator(sel('revoke-confirm')).click();
    await card.locator('.badge-revoked').waitFor();
    expect(GrantResponse.parse((await coord.api('GET', `/v1/grants/${grantId}`)).body)).toMatchObject({ status: 'revoked', revokedBy: 'admin', revokeReason: 'revoked in the console' });

    await page.click(sel('nav-audit'));
    await page.locator(sel('audit-entries')).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(sel('export-jsonl'))]);
    const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    const entries = lines.map((l) => AuditEntryResponse.parse(JSON.parse(l)));
    expect(entries.find((e) => e.action === 'grant.revoked' && e.details.grantId === grantId)).toBeDefined();
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));

    await page.selectOption(sel('filter-action'), 'grant.revoked');
    await page.click(sel('apply-filters'));
    await page.waitForFunction("location.hash.includes('action=grant.revoked')");
    await page.locator(sel('audit-row')).first().waitFor();
    const actions = await page.locator(`${sel('audit-row')} td:nth-child(4)`).allTextContents();
    expect(new Set(actions)).toEqual(new Set(['grant.revoked']));

    await page.click(sel('verify'));
    await page.locator(sel('verify-result')).waitFor();
    expect(await page.locator(sel('verify-result')).textContent()).toContain('chain intact');

    await page.click(sel('sign-out'));
    await page.locator(sel('sign-in-form')).waitFor();
    await context.close();
  });

  it('shows an auditor everything read-only: no revoke button, no principals; a forged POST without CSRF is 403', async () => {
    const { context, page } = await newPage();
    await page.goto(`${coord.httpUrl}/console/#/grants`);
    await signIn(page, auditorKey);
    await page.locator(`${sel('grant')}[data-id="${spareGrantId}"]`).waitFor();
    expect(await page.locator(sel('whoami')).textContent()).toContain('auditor');
    expect(await page.locator(sel('revoke')).count()).toBe(0);
    expect(await page.locator(sel('nav-principals')).count()).toBe(0);
    await page.click(sel('nav-nodes'));
    await page.locator(sel('node-row')).first().waitFor();
    expect(await page.locator(sel('node-row')).count()).toBe(3);
    expect(await page.locator(sel('nodes')).textContent()).toContain('n/a (two-round signing)');

    const forge = (p: Page, id: string) =>
      p.evaluate(async (grant) => {
        const res = await fetch(`/v1/grants/${grant}/revoke`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{}' });
        return { status: res.status, body: (await res.json()) as { error: { code: string } } };
      }, id);
    expect(await forge(page, spareGrantId)).toMatchObject({ status: 403, body: { error: { code: 'CSRF_INVALID' } } });
    await context.close();

    // The same forged call with an admin's cookie: refused too, and the grant stays active.
    const admin = await newPage();
    await admin.page.goto(`${coord.httpUrl}/console/`);
    await signIn(admin.page, ADMIN_TOKEN);
    await admin.page.locator(sel('whoami')).waitFor();
    expect(await forge(admin.page, spareGrantId)).toMatchObject({ status: 403, body: { error: { code: 'CSRF_INVALID' } } });
    expect(GrantResponse.parse((await coord.api('GET', `/v1/grants/${spareGrantId}`)).body).status).toBe('active');
    await admin.context.close();
  });

  it('logged no error in any page (no CSP violation, no uncaught exception)', () => {
    expect(pageErrors).toEqual([]);
  });
});

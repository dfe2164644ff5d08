import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { LocalCluster } from '#harness';

/**
 * `npm run console:screenshots`: starts a demo-like cluster (a coordinator and three signer processes,
 * from dist/), makes some history (signed requests, one waiting for an offline node, a grant, an auditor)
 * and saves PNGs of the console's main pages to docs/console/ with Debian's headless Chromium.
 */
const OUT = resolve(process.argv[2] ?? 'docs/console');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const transfer = (value: string) => ({
  kind: 'eip712',
  typedData: {
    domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48' },
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
      Transfer: [
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
      ],
    },
    primaryType: 'Transfer',
    message: { to: '0x1111111111111111111111111111111111111111', value },
  },
});

async function shoot(page: Page, name: string, hash: string, ready: string, fullPage = true): Promise<void> {
  await page.goto(`${page.url().split('#')[0]}#${hash}`);
  await page.locator(ready).first().waitFor();
  await page.waitForTimeout(300);
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`saved ${file}`);
}

/** Nodes 1 and 2 sign everything and approve grants; node 3 refuses transfers over 100 USDC and approves no grant. */
const POLICIES = [
  `version: 1
rules:
  - { id: allow-everything, outcome: allow, description: the screenshots' cluster, match: {} }
grantRules:
  - { id: allow-grants, outcome: allow, match: {} }
`,
  `version: 1
rules:
  - { id: allow-everything, outcome: allow, description: the screenshots' cluster, match: {} }
grantRules:
  - { id: allow-grants, outcome: allow, match: {} }
`,
  `version: 1
rules:
  - id: over-100-usdc
    outcome: deny
    description: transfers over 100 USDC need a board decision
    match: { kinds: [eip712], fields: [{ path: value, gt: "100000000" }] }
  - { id: everything-else, outcome: allow, match: {} }
`,
];

async function main(): Promise<void> {
  const workDir = join(tmpdir(), `roundtable-screenshots-${process.pid}`);
  const policy = (i: number) => join(workDir, `policy-${i + 1}.yaml`);
  const cluster = new LocalCluster({ workDir, nodes: 3, nodeFlags: (i) => ['--policy', policy(i)], onStep: (t) => console.log(`· ${t}`) });
  await cluster.start(async () => {
    for (const [i, text] of POLICIES.entries()) await writeFile(policy(i), text);
  });
  try {
    const key = await cluster.dealKey('secp256k1', 2);
    const strict = await cluster.dealKey('ed25519', 3);
    const signed = [];
    for (const [i, value] of ['250000000', '100000000', '42000000'].entries()) {
      const created = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, chainId: 1, payload: transfer(value), description: `payroll run ${i + 1}` });
      signed.push(await cluster.waitForOutcome(created.id));
    }
    await cluster.sign(key.id, 'rotate the treasury multisig owner', 'ops change');
    await cluster.api('POST', '/v1/grants', {
      keyId: key.id,
      grantee: { kind: 'ed25519', publicKey: '3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29' },
      label: 'payroll bot',
      validUntil: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      scope: {
        kinds: ['eip712'],
        chainIds: [1],
        domains: [{ name: 'USD Coin', verifyingContract: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48' }],
        primaryTypes: ['Transfer'],
        maxRequests: 20,
        rateLimit: { count: 10, intervalMs: 60_000 },
      },
    });
    // A request on the 3-of-3 key while node-3 is offline: it waits, with its countdown.
    await cluster.stopSigner(2);
    await cluster.api('POST', '/v1/signing-requests', { keyId: strict.id, message: 'release the quarterly budget', description: 'needs all three', deadline: new Date(Date.now() + 3_600_000).toISOString() });
    await new Promise((r) => setTimeout(r, 3500));

    await mkdir(OUT, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
      await page.goto(`${cluster.httpUrl}/console/`);
      await page.locator('[data-test="sign-in-form"]').waitFor();
      await page.screenshot({ path: join(OUT, 'sign-in.png') });
      await page.fill('[data-test="api-key"]', cluster.adminToken);
      await page.click('[data-test="sign-in"]');
      await page.locator('[data-test="whoami"]').waitFor();
      await shoot(page, 'requests', '/requests', '[data-test="request-row"]');
      await shoot(page, 'request-detail', `/requests/${signed[0]!.id}`, '[data-test="decision-row"]');
      await shoot(page, 'nodes', '/nodes', '[data-test="node-row"]');
      await shoot(page, 'grants', '/grants', '[data-test="grant"]');
      // The audit log is long: its first screen (checkpoint, witnesses, filters, the first entries).
      await page.setViewportSize({ width: 1360, height: 1400 });
      await shoot(page, 'audit', '/audit', '[data-test="audit-row"]', false);
    } finally {
      await browser.close();
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

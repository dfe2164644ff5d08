import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Intent } from '#protocol';
import { intentHash } from '#intent';
import { loadNodePolicy, type LoadedNodePolicy } from './node-policy.js';
import { POLICY_LOG_FILE } from './policy-log.js';
import type { PolicySubject } from './policy-types.js';
import { ALICE, BOB, DAI, OTHER_KEY, TUESDAY_1030_UTC, intent, text, transfer } from './policy-test-fixtures.js';
import { POLICY_LEDGER_FILE } from './velocity-ledger.js';

const DAY = 86_400_000;
const T0 = TUESDAY_1030_UTC;
let dir: string;
let n = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'node-policy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const subject = (i: Intent, requestId = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`): PolicySubject => ({
  requestId,
  intent: i,
  intentHash: intentHash(i),
});
const pay = (value: string, over: Parameters<typeof transfer>[0] = {}) => subject(intent(transfer({ value, ...over })));

/** Evaluates and, when allowed, commits: what a node does for one proposal. */
async function sign(policy: LoadedNodePolicy, s: PolicySubject, now: number): Promise<string> {
  const evaluation = await policy.evaluate(s, now);
  if (evaluation.outcome !== 'allow') return `${evaluation.outcome}:${evaluation.rule}`;
  const commit = await policy.commitUsage(s, now, evaluation);
  return commit.ok ? 'signed' : `refused: ${commit.reason}`;
}

const countPolicy = (limit: object) => ({
  version: 1,
  rules: [{ id: 'limited', outcome: 'allow', match: { within: ['lim'] } }],
  limits: [{ id: 'lim', windowMs: DAY, ...limit }],
});

describe('velocity limits', () => {
  it('allows two under a limit of two, and after a restart on the same directory not the third', async () => {
    const document = countPolicy({ maxCount: 2, per: 'key' });
    const first = await loadNodePolicy({ document, stateDir: dir });
    expect(await sign(first, subject(text('a')), T0)).toBe('signed');
    expect(await sign(first, subject(text('b')), T0 + 1)).toBe('signed');
    const restarted = await loadNodePolicy({ document, stateDir: dir });
    expect(await sign(restarted, subject(text('c')), T0 + 2)).toBe('deny:null');
    const evaluation = await restarted.evaluate(subject(text('c')), T0 + 2);
    expect(evaluation.reason).toMatch(/limit lim: 2 of 2 requests in the last 1d already/);
    // The window rolls: a day after the first, one slot is free again.
    expect(await sign(restarted, subject(text('d')), T0 + DAY + 1)).toBe('signed');
    expect((await stat(join(dir, POLICY_LEDGER_FILE))).mode & 0o777).toBe(0o600);
  });

  it('commitUsage re-checks: an allow spent by another request meanwhile is refused, and a commit counts once', async () => {
    const policy = await loadNodePolicy({ document: countPolicy({ maxCount: 1, per: 'key' }), stateDir: dir });
    const a = subject(text('a'));
    const b = subject(text('b'));
    const ea = await policy.evaluate(a, T0);
    const eb = await policy.evaluate(b, T0);
    expect([ea.outcome, eb.outcome]).toEqual(['allow', 'allow']);
    expect(await policy.commitUsage(a, T0, ea)).toEqual({ ok: true });
    expect(await policy.commitUsage(a, T0, ea)).toEqual({ ok: true }); // once per request: counted once
    expect(await policy.commitUsage(b, T0, eb)).toEqual({ ok: false, reason: expect.stringMatching(/no longer keeps its limits: limit lim: 1 of 1 requests/) as unknown });
    const restarted = await loadNodePolicy({ document: countPolicy({ maxCount: 1, per: 'key' }), stateDir: dir });
    expect(await restarted.commitUsage(a, T0 + 5, ea)).toEqual({ ok: true }); // still once, across restarts
    expect(await sign(restarted, subject(text('c')), T0 + 5)).toBe('deny:null');
  });

  it('sums amounts per asset (the verifying contract) and per key', async () => {
    const document = countPolicy({ amountField: 'value', max: '1000', per: 'key' });
    const policy = await loadNodePolicy({ document, stateDir: dir });
    expect(await sign(policy, pay('600'), T0)).toBe('signed');
    expect(await sign(policy, pay('500'), T0)).toBe('deny:null'); // 1100 > 1000
    expect(await sign(policy, pay('400'), T0)).toBe('signed'); // exactly 1000
    expect(await sign(policy, pay('400', { token: DAI }), T0)).toBe('signed'); // another asset
    expect(await sign(policy, subject(intent(transfer({ value: '400' }), { keyId: OTHER_KEY })), T0)).toBe('signed'); // another key
    expect(await sign(policy, pay('1'), T0)).toBe('deny:null');
    // Amounts that cannot be counted are not allowed under the limit: fail closed.
    expect(await sign(policy, pay('-5', { token: DAI }), T0)).toBe('deny:null');
    expect(await sign(policy, subject(text('x')), T0)).toBe('deny:null');
  });

  it('per recipient: each recipient has its own allowance', async () => {
    const document = countPolicy({ amountField: 'value', max: '1000', per: 'recipient', recipientField: 'to' });
    const policy = await loadNodePolicy({ document, stateDir: dir });
    expect(await sign(policy, pay('1000', { to: ALICE }), T0)).toBe('signed');
    expect(await sign(policy, pay('1', { to: ALICE.toUpperCase().replace('0X', '0x') }), T0)).toBe('deny:null');
    expect(await sign(policy, pay('1000', { to: BOB }), T0)).toBe('signed');
    const evaluation = await policy.evaluate(pay('1', { to: BOB }), T0);
    expect(evaluation.reason).toMatch(/limit lim: 1 more would make 1001 of at most 1000 in 1d \(1000 spent\)/);
  });

  it("an operator's approval is counted against every limit but not refused by one", async () => {
    const document = {
      version: 1,
      rules: [
        { id: 'small', outcome: 'allow', match: { fields: [{ path: 'value', lte: '100' }], within: ['lim'] } },
        { id: 'large', outcome: 'ask', match: { fields: [{ path: 'value', gt: '100' }] } },
      ],
      limits: [{ id: 'lim', amountField: 'value', max: '1000', windowMs: DAY, per: 'key' }],
    };
    const policy = await loadNodePolicy({ document, stateDir: dir });
    const big = pay('950');
    expect((await policy.evaluate(big, T0)).outcome).toBe('ask');
    expect(await policy.commitUsage(big, T0, 'operator')).toEqual({ ok: true });
    expect(await sign(policy, pay('100'), T0)).toBe('deny:null'); // 950 + 100 > 1000
    expect(await sign(policy, pay('50'), T0)).toBe('signed');
    expect(await policy.commitUsage(pay('5000'), T0, 'operator')).toEqual({ ok: true });
  });

  it('refuses to commit what the evaluation did not allow, or an evaluation of another policy', async () => {
    const policy = await loadNodePolicy({ document: countPolicy({ maxCount: 5, per: 'key' }), stateDir: dir });
    const s = subject(text('x'));
    const e = await policy.evaluate(s, T0);
    expect(await policy.commitUsage(s, T0, { ...e, outcome: 'ask' })).toMatchObject({ ok: false, reason: expect.stringMatching(/not allow/) as unknown });
    expect(await policy.commitUsage(s, T0, { ...e, policyHash: 'ab'.repeat(32) })).toMatchObject({ ok: false });
    expect(await policy.commitUsage(s, T0, { ...e, rule: 'nope' })).toMatchObject({ ok: false });
  });

  it('a corrupt ledger fails closed with a clear error, and is not overwritten', async () => {
    const document = countPolicy({ maxCount: 10, per: 'key' });
    await writeFile(join(dir, POLICY_LEDGER_FILE), '{"version": 1, "entries": [', { mode: 0o600 });
    const policy = await loadNodePolicy({ document, stateDir: dir });
    expect(policy.warnings[0]).toMatch(/velocity ledger .* is corrupt/);
    const s = subject(text('x'));
    const e = await policy.evaluate(s, T0);
    expect(e).toMatchObject({ outcome: 'deny', rule: null, reason: expect.stringMatching(/corrupt/) as unknown });
    expect(await policy.commitUsage(s, T0, 'operator')).toMatchObject({ ok: false, reason: expect.stringMatching(/corrupt/) as unknown });
    expect(await readFile(join(dir, POLICY_LEDGER_FILE), 'utf8')).toBe('{"version": 1, "entries": [');
    // A rule without limits still works: only what a limit governs is stopped.
    const mixed = await loadNodePolicy({
      document: { ...document, rules: [...document.rules, { id: 'free', outcome: 'allow', match: { kinds: ['bytes'] } }] },
      stateDir: dir,
    });
    expect((await mixed.evaluate(subject(text('x')), T0)).outcome).toBe('deny');
    expect((await mixed.evaluate(subject(intent({ kind: 'bytes', hex: '00' })), T0)).outcome).toBe('allow');
  });

  it('a ledger of the wrong shape is corrupt too', async () => {
    await writeFile(join(dir, POLICY_LEDGER_FILE), JSON.stringify({ version: 1, entries: [{ requestId: 'x', at: 'yesterday', usages: [] }] }));
    const policy = await loadNodePolicy({ document: countPolicy({ maxCount: 10, per: 'key' }), stateDir: dir });
    expect(await sign(policy, subject(text('x')), T0)).toBe('deny:null');
  });
});

describe('the policy log', () => {
  it('records every evaluation and commit as JSON lines, mode 0600', async () => {
    const document = countPolicy({ maxCount: 1, per: 'key' });
    const policy = await loadNodePolicy({ document, stateDir: dir });
    const a = subject(text('a'));
    await sign(policy, a, T0);
    await sign(policy, subject(text('b')), T0 + 1000);
    const lines = (await readFile(join(dir, POLICY_LOG_FILE), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        event: 'evaluate',
        time: new Date(T0).toISOString(),
        requestId: a.requestId,
        intentHash: a.intentHash,
        policyHash: policy.policyHash,
        rule: 'limited',
        outcome: 'allow',
        reason: 'allowed by rule limited',
      },
      {
        event: 'commit',
        time: new Date(T0).toISOString(),
        requestId: a.requestId,
        intentHash: a.intentHash,
        policyHash: policy.policyHash,
        rule: 'limited',
        approvedBy: 'policy',
        outcome: 'recorded',
        reason: 'counted against every limit',
      },
      expect.objectContaining({ event: 'evaluate', time: new Date(T0 + 1000).toISOString(), rule: null, outcome: 'deny' }),
    ]);
    expect((await stat(join(dir, POLICY_LOG_FILE))).mode & 0o777).toBe(0o600);
    expect(await policy.readLog()).toEqual(lines);
  });

  it('names the policy by the hash of its bytes: another document, another hash', async () => {
    const yaml = 'version: 1\nrules:\n  - { id: all, outcome: ask, match: {} }\n';
    const file = join(dir, 'policy.yaml');
    await writeFile(file, yaml);
    const fromFile = await loadNodePolicy({ file, stateDir: dir });
    const fromText = await loadNodePolicy({ document: yaml, stateDir: dir });
    const edited = await loadNodePolicy({ document: yaml.replace('ask', 'deny'), stateDir: dir });
    expect(fromFile.policyHash).toBe(fromText.policyHash);
    expect(fromFile.source).toBe(yaml);
    expect(edited.policyHash).not.toBe(fromFile.policyHash);
    const s = subject(text('x'));
    expect(await fromFile.evaluate(s, T0)).toEqual({ outcome: 'ask', rule: 'all', reason: 'needs operator approval by rule all', policyHash: fromFile.policyHash });
    expect((await edited.evaluate(s, T0)).policyHash).toBe(edited.policyHash);
    expect((await fromFile.readLog()).map((l) => l.policyHash)).toEqual([fromFile.policyHash, edited.policyHash]);
  });

  it('refuses a file and a document together, and a bad file at load', async () => {
    await expect(loadNodePolicy({ stateDir: dir })).rejects.toMatchObject({ code: 'POLICY_INVALID' });
    await expect(loadNodePolicy({ document: 'version: 1\nrules: [}\n', stateDir: dir })).rejects.toMatchObject({ code: 'POLICY_INVALID' });
    const policy = await loadNodePolicy({ document: { version: 1, rules: [] }, stateDir: dir });
    expect(policy.warnings).toEqual(['the policy has no allow or ask rule: this node will decline every request']);
    expect(policy.describe()).toMatch(/^policy [0-9a-f]{12} from document: 0 rule\(s\), 0 limit\(s\), 0 grant rule\(s\), deny by default$/);
  });
});

import { describe, expect, it } from 'vitest';
import { grantHash } from '#intent';
import { Grant } from '#protocol';
import { SignerError } from '../signer-error.js';
import { tempDir } from '../testing/key-fixtures.js';
import { compileGrantRule, decideGrant } from './grant-rules.js';
import { loadNodePolicy } from './node-policy.js';
import { loadPolicyObject } from './policy-document.js';
import { GrantRule, type GrantRuleMatch } from './policy-schema.js';

const KEY = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
const OTHER = '0d9e7c1a-5b3f-4a2e-8c6d-2f1b4e7a9c30';
const HOUR = 3_600_000;

const grant = (over: Partial<Grant> = {}): Grant =>
  Grant.parse({
    version: 1,
    id: '6a1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
    keyId: KEY,
    grantee: { kind: 'ed25519', publicKey: '11'.repeat(32) },
    label: 'payroll bot',
    validAfter: 0,
    validUntil: 24 * HOUR,
    scope: { kinds: ['text'] },
    proposer: 'admin',
    ...over,
  });

const rule = (id: string, outcome: 'allow' | 'deny' | 'ask', match: GrantRuleMatch = {}) => compileGrantRule(GrantRule.parse({ id, outcome, match }));

describe('grant rules', () => {
  it('deny by default: no grant rule at all, or none that applies, declines with rule null', () => {
    expect(decideGrant([], grant())).toMatchObject({ outcome: 'deny', rule: null, reason: expect.stringContaining('no grant rule') as string });
    const d = decideGrant([rule('other-key', 'allow', { keyIds: [OTHER] })], grant());
    expect(d).toMatchObject({ outcome: 'deny', rule: null });
    expect(d.reason).toContain(`grant rule other-key: the grant is for key ${KEY}`);
  });

  it('deny > ask > allow whatever the order, naming the first rule of the winning outcome', () => {
    const allow = rule('allow-all', 'allow');
    const ask = rule('ask-long', 'ask', { label: 'payroll' });
    const deny = rule('deny-bots', 'deny', { label: 'bot$' });
    expect(decideGrant([allow, ask, deny], grant())).toMatchObject({ outcome: 'deny', rule: 'deny-bots' });
    expect(decideGrant([deny, ask, allow], grant({ label: 'payroll run' }))).toMatchObject({ outcome: 'ask', rule: 'ask-long' });
    expect(decideGrant([allow, rule('allow-2', 'allow')], grant({ label: 'x' }))).toMatchObject({ outcome: 'allow', rule: 'allow-all' });
  });

  it.each<[string, GrantRuleMatch, Partial<Grant>, boolean]>([
    ['keyIds: listed', { keyIds: [KEY.toUpperCase()] }, {}, true],
    ['keyIds: not listed', { keyIds: [OTHER] }, {}, false],
    ['granteeKinds: ed25519', { granteeKinds: ['ed25519'] }, {}, true],
    ['granteeKinds: eip191 only', { granteeKinds: ['eip191'] }, {}, false],
    ['maxValidityMs: exactly the window', { maxValidityMs: 24 * HOUR }, {}, true],
    ['maxValidityMs: a longer window', { maxValidityMs: 24 * HOUR - 1 }, {}, false],
    ['label: matches anywhere', { label: 'roll' }, {}, true],
    ['label: anchored, no match', { label: '^roll' }, {}, false],
    ['all conditions, all hold', { keyIds: [KEY], granteeKinds: ['ed25519'], maxValidityMs: 48 * HOUR, label: '^payroll' }, {}, true],
    ['all conditions, one fails', { keyIds: [KEY], granteeKinds: ['ed25519'], maxValidityMs: HOUR, label: '^payroll' }, {}, false],
  ])('%s', (_name, match, over, applies) => {
    expect(decideGrant([rule('r', 'allow', match)], grant(over)).outcome).toBe(applies ? 'allow' : 'deny');
  });

  it('is part of the policy document: unknown fields and duplicate ids stop the load', () => {
    const doc = (grantRules: unknown[]) => ({ version: 1, rules: [], grantRules });
    expect(loadPolicyObject(doc([{ id: 'a', outcome: 'ask', match: { label: 'bot' } }])).document.grantRules).toHaveLength(1);
    expect(() => loadPolicyObject(doc([{ id: 'a', outcome: 'allow', match: { labels: 'bot' } }]))).toThrow(/grantRules\.0\.match\.labels: unknown field/);
    expect(() => loadPolicyObject(doc([{ id: 'a', outcome: 'allow', match: {} }, { id: 'a', outcome: 'deny', match: {} }]))).toThrow(
      /duplicate grant rule id a/,
    );
    expect(() => loadPolicyObject(doc([{ id: 'a', outcome: 'allow', match: { label: '(' } }]))).toThrow(SignerError);
  });

  it('a loaded policy decides grants by its grant rules and logs each decision', async () => {
    const dir = await tempDir();
    try {
      const policy = await loadNodePolicy({
        document: { version: 1, rules: [], grantRules: [{ id: 'short-bots', outcome: 'allow', match: { maxValidityMs: 48 * HOUR } }] },
        stateDir: dir.path,
      });
      const g = grant();
      expect(await policy.evaluateGrant({ grant: g, grantHash: grantHash(g) }, 5)).toMatchObject({ outcome: 'allow', rule: 'short-bots', policyHash: policy.policyHash });
      const long = grant({ validUntil: 72 * HOUR });
      expect(await policy.evaluateGrant({ grant: long, grantHash: grantHash(long) }, 6)).toMatchObject({ outcome: 'deny', rule: null });
      expect(await policy.readLog()).toEqual([
        expect.objectContaining({ event: 'evaluate-grant', grantId: g.id, grantHash: grantHash(g), outcome: 'allow', rule: 'short-bots' }),
        expect.objectContaining({ event: 'evaluate-grant', grantHash: grantHash(long), outcome: 'deny', rule: null }),
      ]);
    } finally {
      await dir.cleanup();
    }
  });
});

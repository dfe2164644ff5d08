import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, utf8 } from '#crypto';
import { loadPolicyObject, parsePolicySource, readPolicyFile } from './policy-document.js';

const GOOD = `version: 1
rules:
  - id: small-usdc
    outcome: allow
    description: small USDC transfers
    match:
      kinds: [eip712]
      domain: { verifyingContract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" }
      fields:
        - { path: value, lte: "1000000000" }
      within: [daily]
limits:
  - id: daily
    amountField: value
    max: "5000000000"
    windowMs: 86400000
    per: key
`;

/** The SignerError a source fails with (code and message). */
function failure(source: string): { code: string; message: string } {
  try {
    parsePolicySource(source, 'policy.yaml');
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('the source parsed');
}

describe('parsePolicySource', () => {
  it('loads a YAML document and hashes its bytes as loaded', () => {
    const loaded = parsePolicySource(GOOD);
    expect(loaded.document.rules[0]).toMatchObject({ id: 'small-usdc', outcome: 'allow' });
    expect(loaded.document.limits?.[0]).toMatchObject({ id: 'daily', max: '5000000000' });
    expect(loaded.policyHash).toBe(sha256Hex(utf8(GOOD)));
    expect(loaded.source).toBe(GOOD);
  });

  it('loads the example of docs/policy.md', async () => {
    const markdown = await readFile(new URL('../../../../docs/policy.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(markdown)?.[1];
    expect(example).toBeDefined();
    const { document } = parsePolicySource(example!, 'docs/policy.md');
    expect(document.rules.map((r) => [r.id, r.outcome])).toEqual([
      ['small-usdc', 'allow'],
      ['large-usdc', 'ask'],
      ['no-blind', 'deny'],
    ]);
  });

  it('loads JSON too', () => {
    const json = JSON.stringify({ version: 1, rules: [{ id: 'all', outcome: 'ask', match: {} }] }, null, 2);
    expect(parsePolicySource(json).document.rules[0]!.outcome).toBe('ask');
  });

  it('the hash changes with the document, even with a comment, and not otherwise', () => {
    const a = parsePolicySource(GOOD).policyHash;
    expect(parsePolicySource(GOOD).policyHash).toBe(a);
    expect(parsePolicySource(GOOD.replace('1000000000', '1000000001')).policyHash).not.toBe(a);
    expect(parsePolicySource(`# v2\n${GOOD}`).policyHash).not.toBe(a);
  });

  const rows: [string, string, RegExp][] = [
    ['bad YAML names the line', GOOD.replace('kinds: [eip712]', 'kinds: [eip712'), /^policy\.yaml at line \d+, column \d+: not valid YAML or JSON/],
    ['bad JSON names the line', '{\n  "version": 1,\n  "rules": [\n}', /^policy\.yaml at line 4, column \d+: not valid YAML or JSON/],
    ['a duplicate key is refused', 'version: 1\nversion: 1\nrules: []\n', /line 2.*not valid YAML or JSON.*unique/i],
    ['an unknown field names its path and line', GOOD.replace('      kinds: [eip712]', '      kinds: [eip712]\n      chainID: [1]'), /rules\.0\.match\.chainID \(line 8\): unknown field/],
    ['a misspelt top-level field', `${GOOD}limit: []\n`, /limit \(line 18\): unknown field/],
    ['a wrong type names its path and line', GOOD.replace('lte: "1000000000"', 'lte: "a lot"'), /rules\.0\.match\.fields\.0\.lte \(line 10\):/],
    ['a wrong outcome', GOOD.replace('outcome: allow', 'outcome: permit'), /rules\.0\.outcome \(line 4\):/],
    ['a missing field names the path, at its parent', GOOD.replace('    outcome: allow\n', ''), /rules\.0\.outcome \(line 3\):/],
    ['a bad address', GOOD.replace('0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', '0x1234'), /rules\.0\.match\.domain\.verifyingContract \(line 8\): .*address/],
    ['a bad regular expression', GOOD.replace('      kinds: [eip712]', '      description: "(unclosed"'), /rules\.0\.match\.description \(line 7\): not a valid regular expression/],
    ['a within naming no limit', GOOD.replace('within: [daily]', 'within: [weekly]'), /rules\.0\.match\.within\.0 \(line 11\): no limit has id weekly/],
    ['duplicate rule ids', GOOD.replace('rules:\n', 'rules:\n  - { id: small-usdc, outcome: deny, match: {} }\n'), /rules\.1\.id \(line 4\): duplicate rule id small-usdc/],
    ['a field condition without operator', GOOD.replace('{ path: value, lte: "1000000000" }', '{ path: value }'), /rules\.0\.match\.fields\.0 \(line 10\): a field condition needs an operator/],
    ['a limit without max or maxCount', GOOD.replace('    max: "5000000000"\n', ''), /limits\.0 \(line 13\): a limit needs max \(with amountField\) or maxCount; limits\.0\.max \(line 13\): amountField needs max/],
    ['per recipient without recipientField', GOOD.replace('per: key', 'per: recipient'), /limits\.0\.recipientField \(line \d+\): per: recipient needs recipientField/],
    ['an unknown time zone', GOOD.replace('      kinds: [eip712]', '      timeWindows: [{ from: "09:00", to: "17:00", timeZone: Mars/Olympus }]'), /rules\.0\.match\.timeWindows\.0\.timeZone \(line 7\): not a time zone/],
    ['a time window of no length', GOOD.replace('      kinds: [eip712]', '      timeWindows: [{ from: "09:00", to: "09:00" }]'), /timeWindows\.0\.to \(line 7\): from and to are the same time/],
    ['a bad clock time', GOOD.replace('      kinds: [eip712]', '      timeWindows: [{ from: "9am", to: "17:00" }]'), /timeWindows\.0\.from \(line 7\): a time of day/],
    ['a message condition with both encodings', GOOD.replace('      kinds: [eip712]', '      message: { text: a, hex: b }'), /rules\.0\.match\.message \(line 7\): give exactly one of text or hex/],
    ['the wrong version', GOOD.replace('version: 1', 'version: 2'), /^policy\.yaml is not a valid policy: version \(line 1\):/],
    ['not a mapping', '- 1\n- 2\n', /\(document\) \(line 1\):/],
  ];
  it.each(rows)('%s', (_name, source, message) => {
    const e = failure(source);
    expect(e.code).toBe('POLICY_INVALID');
    expect(e.message).toMatch(message);
  });
});

describe('readPolicyFile and loadPolicyObject', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'policy-doc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file, naming it in errors', async () => {
    const good = join(dir, 'good.yaml');
    await writeFile(good, GOOD);
    expect((await readPolicyFile(good)).policyHash).toBe(sha256Hex(utf8(GOOD)));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"version": 1, "rules": [{"id": "x", "outcome": "allow", "match": {"kinds": "text"}}]}');
    await expect(readPolicyFile(bad)).rejects.toThrow(new RegExp(`^${bad} is not a valid policy: rules\\.0\\.match\\.kinds \\(line 1\\)`));
    await expect(readPolicyFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'POLICY_INVALID', message: expect.stringMatching(/does not exist/) as unknown });
  });

  it('validates a document object, naming the field path, and hashes its canonical JSON', () => {
    const a = loadPolicyObject({ rules: [], version: 1 });
    expect(a.source).toBe('{"rules":[],"version":1}');
    expect(a.policyHash).toBe(sha256Hex(utf8(a.source)));
    expect(loadPolicyObject({ version: 1, rules: [{ id: 'a', outcome: 'allow', match: {} }] }).policyHash).not.toBe(a.policyHash);
    expect(() => loadPolicyObject({ version: 1, rules: [{ id: 'a', outcome: 'allow', match: { keyIds: ['nope'] } }] })).toThrow(
      /rules\.0\.match\.keyIds\.0: /,
    );
  });
});

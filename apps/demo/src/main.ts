import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SUITE_IDS, type SuiteId } from '#crypto';
import { LocalCluster } from '#harness';
import { verifyIndependently } from '#verify';
import { DEMO_POLICIES } from './demo-policies.js';
import { agentFlow } from './agent-flow.js';
import { auditFlow } from './audit-flow.js';
import { consoleAccess, consoleLines, type ConsoleAccess } from './console-access.js';
import { parseDemoArgs, untilStopSignal, type DemoOptions } from './demo-options.js';
import { treasuryFlow } from './treasury-flow.js';
import { safeFlow } from './safe-flow.js';

/**
 * `npm run demo`: a coordinator on the embedded database and three signer nodes, each a separate
 * process started from the CLI with its own policy file; a 2-of-3 key per suite and a signed message
 * per key, verified by an implementation independent of the one that signed; then the treasury flow
 * (treasury-flow.ts): an EIP-712 transfer that one node allows by rule, one operator approves by hand
 * and one node denies, and a transfer a quorum of nodes rejects; then a payroll agent under a session-key
 * grant (agent-flow.ts); the audit chain's status, and an audit bundle verified offline (audit-flow.ts). While
 * the cluster runs it names the web console's address and how to sign in; with `--keep-running` it keeps the
 * cluster up after the flows until Ctrl-C (SIGINT) or SIGTERM. It stops what it starts.
 */
const SUITES = SUITE_IDS;
const MESSAGE = 'Roundtable demo: transfer 1.00 USDC from treasury to payroll';

const step = (text: string) => console.log(`\n▸ ${text}`);
const info = (text: string) => console.log(`  ${text}`);

/** The verifier `verifyIndependently` (#verify) uses for each suite: none of them shares code with noble. */
const VERIFIERS: Record<SuiteId, string> = {
  secp256k1: 'the RFC 9591 equation on elliptic (point arithmetic) and node:crypto (SHA-256)',
  ed25519: 'OpenSSL Ed25519 (node:crypto)',
  'secp256k1-tr': 'libsecp256k1 BIP340 (tiny-secp256k1)',
  ristretto255: 'the RFC 9591 equation on libsodium (ristretto255) and node:crypto (SHA-512)',
  p256: 'the RFC 9591 equation on elliptic (point arithmetic) and node:crypto (SHA-256)',
  ed448: 'OpenSSL Ed448 (node:crypto)',
};

async function main({ keepRunning }: DemoOptions): Promise<void> {
  const started = Date.now();
  const workDir = resolve(process.env.DEMO_DIR ?? './data/demo');
  const policyDir = join(workDir, 'policies');
  const policyFile = (index: number) => join(policyDir, `node-${index + 1}.yaml`);
  const cluster = new LocalCluster({
    workDir,
    nodes: 3,
    // Each node signs only what its own policy file allows (demo-policies.ts), and asks its operator where it says so.
    nodeFlags: (index) => ['--policy', policyFile(index)],
    // Checkpoints signed and shown to the nodes every half second, so that the audit ending waits little.
    coordinatorEnv: { AUDIT_CHECKPOINT_INTERVAL_MS: '500', AUDIT_WITNESS_INTERVAL_MS: '500' },
    onStep: info,
  });
  let ok = true;
  let access: ConsoleAccess | null = null;
  try {
    step('Coordinator and three signer nodes (separate processes, Ed25519 identities, challenge-response login, a policy file each)');
    // LocalCluster.start() empties workDir first: the policies are written once it has, before any node starts.
    await cluster.start(async () => {
      await mkdir(policyDir, { recursive: true });
      for (const [i, policy] of DEMO_POLICIES.entries()) await writeFile(policyFile(i), policy);
    });
    info(`coordinator ${cluster.coordinatorId} at ${cluster.httpUrl}`);
    access = await consoleAccess(cluster);
    step('The web console, while the cluster runs');
    for (const line of consoleLines(access)) info(line);

    const signAndCheck = async (key: { id: string; groupPublicKey: string }, suite: SuiteId) => {
      // BIP340 (secp256k1-tr) signs 32-byte messages: sign the SHA-256 digest of the text, given as hex.
      const digest = suite === 'secp256k1-tr';
      const bytes = digest ? new Uint8Array(createHash('sha256').update(MESSAGE).digest()) : new TextEncoder().encode(MESSAGE);
      step(digest ? `Signing SHA-256("${MESSAGE}")` : `Signing "${MESSAGE}"`);
      const t0 = Date.now();
      const payload = digest
        ? { kind: 'digest', hex: Buffer.from(bytes).toString('hex'), hash: 'sha256' }
        : { kind: 'text', text: MESSAGE };
      const created = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', {
        keyId: key.id,
        payload,
        description: `Demo payroll transfer (${suite})`,
      });
      const done = await cluster.waitForOutcome(created.id);
      if (done.status !== 'completed' || !done.signature) throw new Error(`request ${done.status}: ${JSON.stringify(done.failure)}`);
      const signers = done.attempts.at(-1)?.participants.map((p) => `node-${cluster.nodeIds.indexOf(p) + 1}`) ?? [];
      info(`completed in ${Date.now() - t0} ms by ${signers.join(' + ')}, ${done.attempts.length} attempt(s)`);
      info(`signature ${done.signature}`);
      const valid = await verifyIndependently(suite, done.signature, bytes, key.groupPublicKey);
      ok &&= valid;
      info(`checked with ${VERIFIERS[suite]}: ${valid ? 'VALID' : 'INVALID'}`);
      const trail = await cluster.api<{ entries: { action: string }[] }>('GET', `/v1/audit?requestId=${done.id}&limit=200`);
      info(`audit trail: ${trail.entries.map((e) => e.action).join(' → ')}`);
    };

    for (const suite of SUITES) {
      step(`A 2-of-3 ${suite} key from the trusted dealer: each share sealed to its node's identity key, the public package to the coordinator`);
      const key = await cluster.dealKey(suite, 2);
      info(`key ${key.id}`);
      info(`group public key ${key.groupPublicKey}`);
      await signAndCheck(key, suite);
    }

    step('A 2-of-3 ed25519 key from a ceremony (DKG) among the three nodes: no one, not even a dealer, ever holds the secret');
    const dkgKey = await cluster.runCeremony('ed25519', 2, (status) => info(`ceremony: ${status}`));
    info(`ceremony ${dkgKey.ceremonyId} registered key ${dkgKey.id}`);
    info(`group public key ${dkgKey.groupPublicKey}`);
    await signAndCheck(dkgKey, 'ed25519');

    const treasury = await treasuryFlow(cluster, { step, info });
    ok &&= treasury.ok;
    ok = (await agentFlow(cluster, treasury.key, { step, info })) && ok;
    ok = (await safeFlow(cluster, { step, info })) && ok;

    step('Audit log: recomputing the hash chain');
    const verdict = await cluster.api<{ ok: boolean; checked: number; headHash?: string; brokenAt?: unknown }>('GET', '/v1/audit/verify');
    ok &&= verdict.ok;
    info(verdict.ok ? `intact: ${verdict.checked} entries, head ${verdict.headHash}` : `BROKEN: ${JSON.stringify(verdict.brokenAt)}`);
    ok = (await auditFlow(cluster, workDir, { step, info })) && ok;
  } catch (e) {
    ok = false;
    console.error(`\nDemo failed: ${e instanceof Error ? e.message : String(e)}\n${cluster.lastOutput()}`);
  } finally {
    // Kept up after a failure too, once the console can be reached: it is where one looks at what went wrong.
    if (keepRunning && access) {
      step(`The cluster keeps running (demo ${ok ? 'succeeded' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      for (const line of consoleLines(access)) info(line);
      info('press Ctrl-C to stop');
      info(`received ${await untilStopSignal()}`);
    }
    step('Stopping everything');
    for (const { name, code } of await cluster.stop()) info(`${name} exited (${code ?? 'signal'})`);
  }
  console.log(`\nDemo ${ok ? 'succeeded' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = ok ? 0 : 1;
}

let options: DemoOptions;
try {
  options = parseDemoArgs(process.argv.slice(2));
} catch (e) {
  console.error(`demo: ${(e as Error).message}`);
  process.exit(2);
}
void main(options);

import { resolve } from 'node:path';
import { verifyIndependently } from '#crypto';
import { LocalCluster } from '#harness';

/**
 * `npm run demo`: a coordinator on the embedded database and three signer nodes, each a separate
 * process started from the CLI; a 2-of-3 key per suite; a signed message per key, verified by an
 * implementation independent of the one that signed; the audit chain's status. It stops what it starts.
 */
const SUITES = ['secp256k1', 'ed25519'] as const;
const MESSAGE = 'Roundtable demo: transfer 1.00 USDC from treasury to payroll';

const step = (text: string) => console.log(`\n▸ ${text}`);
const info = (text: string) => console.log(`  ${text}`);

async function main(): Promise<void> {
  const started = Date.now();
  const cluster = new LocalCluster({
    workDir: resolve(process.env.DEMO_DIR ?? './data/demo'),
    nodes: 3,
    // Each node signs only what its own rule approves: here, requests whose description starts with "Demo".
    approvalFlags: ['--approve-description', '^Demo '],
    onStep: info,
  });
  let ok = true;
  try {
    step('Coordinator and three signer nodes (separate processes, Ed25519 identities, challenge-response login)');
    await cluster.start();
    info(`coordinator ${cluster.coordinatorId} at ${cluster.httpUrl}`);

    for (const suite of SUITES) {
      step(`A 2-of-3 ${suite} key from the trusted dealer: shares to the nodes' keystores, the public package to the coordinator`);
      const key = await cluster.dealKey(suite, 2);
      info(`key ${key.id}`);
      info(`group public key ${key.groupPublicKey}`);

      step(`Signing "${MESSAGE}"`);
      const t0 = Date.now();
      const done = await cluster.sign(key.id, MESSAGE, `Demo payroll transfer (${suite})`);
      if (done.status !== 'completed' || !done.signature) throw new Error(`request ${done.status}: ${JSON.stringify(done.failure)}`);
      const signers = done.attempts.at(-1)?.participants.map((p) => `node-${cluster.nodeIds.indexOf(p) + 1}`) ?? [];
      info(`completed in ${Date.now() - t0} ms by ${signers.join(' + ')}, ${done.attempts.length} attempt(s)`);
      info(`signature ${done.signature}`);
      const valid = verifyIndependently(suite, done.signature, new TextEncoder().encode(MESSAGE), key.groupPublicKey);
      ok &&= valid;
      const verifier = suite === 'ed25519' ? 'OpenSSL Ed25519 (node:crypto)' : 'the RFC 9591 verification equation, recomputed from the spec';
      info(`checked with ${verifier}: ${valid ? 'VALID' : 'INVALID'}`);
      const trail = await cluster.api<{ entries: { action: string }[] }>('GET', `/v1/audit?requestId=${done.id}&limit=200`);
      info(`audit trail: ${trail.entries.map((e) => e.action).join(' → ')}`);
    }

    step('Audit log: recomputing the hash chain');
    const verdict = await cluster.api<{ ok: boolean; checked: number; headHash?: string; brokenAt?: unknown }>('GET', '/v1/audit/verify');
    ok &&= verdict.ok;
    info(verdict.ok ? `intact: ${verdict.checked} entries, head ${verdict.headHash}` : `BROKEN: ${JSON.stringify(verdict.brokenAt)}`);
  } catch (e) {
    ok = false;
    console.error(`\nDemo failed: ${e instanceof Error ? e.message : String(e)}\n${cluster.lastOutput()}`);
  } finally {
    step('Stopping everything');
    for (const { name, code } of await cluster.stop()) info(`${name} exited (${code ?? 'signal'})`);
  }
  console.log(`\nDemo ${ok ? 'succeeded' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = ok ? 0 : 1;
}

void main();

import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { verifyIndependently } from '#crypto';
import {
  COORDINATOR_MAIN,
  freePort,
  runToEnd,
  SIGNER_MAIN,
  startProcess,
  stopProcess,
  waitFor,
  type Child,
} from './processes.js';

/**
 * `npm run demo`: a coordinator on the embedded database, three signer nodes as separate processes,
 * a 2-of-3 key per suite, a signed message per key, verified by an independent implementation,
 * and the audit chain's status. Everything it starts, it stops.
 */
const SUITES = ['secp256k1', 'ed25519'] as const;
const MESSAGE = 'Roundtable demo: transfer 1.00 USDC from treasury to payroll';

const step = (text: string) => console.log(`\n▸ ${text}`);
const info = (text: string) => console.log(`  ${text}`);

async function main(): Promise<void> {
  const started = Date.now();
  const workDir = resolve(process.env.DEMO_DIR ?? './data/demo');
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const adminToken = randomBytes(24).toString('hex');
  const coordinatorId = 'roundtable-demo';
  const port = await freePort();
  const httpUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/v1/nodes/ws`;
  const children: Child[] = [];

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  try {
    step('Starting the coordinator on the embedded PostgreSQL (no DATABASE_URL)');
    const coordinator = startProcess('coordinator', COORDINATOR_MAIN, [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(workDir, 'coordinator'),
      ADMIN_TOKEN: adminToken,
      COORDINATOR_ID: coordinatorId,
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    });
    children.push(coordinator);
    await waitFor('the coordinator to be healthy', async () => ((await fetch(`${httpUrl}/health`)).ok ? true : undefined), 60_000, 200);
    info(`coordinator ${coordinatorId} at ${httpUrl}`);

    step('Creating three signer nodes (each with its own Ed25519 identity) and enrolling them');
    const keystores = [1, 2, 3].map((i) => join(workDir, `node-${i}`));
    const nodeIds: string[] = [];
    for (const [i, keystore] of keystores.entries()) {
      const out = JSON.parse(await runToEnd(`init node-${i + 1}`, SIGNER_MAIN, ['init', '--keystore', keystore])) as { publicKey: string };
      const node = await api<{ id: string }>('POST', '/v1/nodes', { publicKey: out.publicKey, label: `node-${i + 1}` });
      nodeIds.push(node.id);
      info(`node-${i + 1}  id ${node.id}  identity ${out.publicKey.slice(0, 16)}…`);
    }

    step('Starting the three signer processes (each approves requests by its own rule)');
    for (const [i, keystore] of keystores.entries()) {
      children.push(
        startProcess(`node-${i + 1}`, SIGNER_MAIN, [
          'run',
          '--keystore',
          keystore,
          '--coordinator',
          wsUrl,
          '--coordinator-id',
          coordinatorId,
          '--approve-description',
          '^Demo',
          '--log-level',
          'warn',
        ]),
      );
    }
    await waitFor(
      'the nodes to connect',
      async () => {
        const nodes = await api<{ connected: boolean }[]>('GET', '/v1/nodes');
        return nodes.filter((n) => n.connected).length === 3 ? true : undefined;
      },
      30_000,
    );
    info('3 of 3 nodes connected and authenticated');

    let allVerified = true;
    for (const suite of SUITES) {
      step(`Dealing a 2-of-3 ${suite} key: shares go to the keystores, only the public package to the coordinator`);
      const dealt = JSON.parse(
        await runToEnd('dealer', SIGNER_MAIN, [
          'dealer',
          '--coordinator',
          httpUrl,
          '--admin-token',
          adminToken,
          '--suite',
          suite,
          '--threshold',
          '2',
          ...keystores.flatMap((k) => ['--keystore', k]),
        ]),
      ) as { id: string; groupPublicKey: string };
      info(`key ${dealt.id}`);
      info(`group public key ${dealt.groupPublicKey}`);

      step(`Requesting a signature: "${MESSAGE}"`);
      const created = await api<{ id: string }>('POST', '/v1/signing-requests', {
        keyId: dealt.id,
        message: MESSAGE,
        encoding: 'utf8',
        description: `Demo payment signed with ${suite}`,
      });
      const t0 = Date.now();
      const done = await waitFor(
        'the signature',
        async () => {
          const r = await api<{ status: string; signature: string | null; attempts: { participants: string[] }[]; failure: unknown }>(
            'GET',
            `/v1/signing-requests/${created.id}`,
          );
          if (r.status === 'completed') return r;
          if (r.status === 'failed' || r.status === 'expired') throw new Error(`request ${r.status}: ${JSON.stringify(r.failure)}`);
          return undefined;
        },
        30_000,
        25,
      );
      const signers = done.attempts.at(-1)?.participants.map((p) => `node-${nodeIds.indexOf(p) + 1}`) ?? [];
      info(`completed in ${Date.now() - t0} ms by ${signers.join(' + ')} (attempts: ${done.attempts.length})`);
      info(`signature ${done.signature}`);
      const ok = verifyIndependently(suite, done.signature!, new TextEncoder().encode(MESSAGE), dealt.groupPublicKey);
      allVerified &&= ok;
      const verifier = suite === 'ed25519' ? 'OpenSSL (node:crypto) Ed25519' : 'RFC 9591 verification equation recomputed from the spec';
      info(`verified by ${verifier}: ${ok ? 'VALID' : 'INVALID'}`);

      const trail = await api<{ entries: { seq: number; action: string; actor: { kind: string; id: string } }[] }>(
        'GET',
        `/v1/audit?requestId=${created.id}&limit=100`,
      );
      info(`audit trail of this request: ${trail.entries.map((e) => e.action).join(' → ')}`);
    }

    step('Verifying the audit log hash chain');
    const verdict = await api<{ ok: boolean; checked: number; headHash?: string; brokenAt?: unknown }>('GET', '/v1/audit/verify');
    info(verdict.ok ? `audit chain intact: ${verdict.checked} entries, head ${verdict.headHash}` : `AUDIT CHAIN BROKEN: ${JSON.stringify(verdict.brokenAt)}`);

    step('Stopping everything');
    for (const child of [...children].reverse()) {
      const code = await stopProcess(child);
      info(`${child.name} exited (${code ?? 'signal'})`);
    }
    children.length = 0;
    console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${allVerified && verdict.ok ? 'all signatures valid, audit chain intact' : 'FAILED'}`);
    if (!allVerified || !verdict.ok) process.exitCode = 1;
  } catch (e) {
    console.error(`\nDemo failed: ${e instanceof Error ? e.message : String(e)}`);
    for (const child of children) {
      console.error(`--- last output of ${child.name} ---\n${child.output.slice(-20).join('\n')}`);
    }
    process.exitCode = 1;
  } finally {
    await Promise.all(children.map((c) => stopProcess(c)));
  }
}

void main();

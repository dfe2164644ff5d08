import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_MAIN, runToEnd, type LocalCluster } from '#harness';

interface Out {
  step: (text: string) => void;
  info: (text: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The audit log as an auditor checks it away from the coordinator: the log's public key, a bundle of
 * entries with the latest signed checkpoint and an inclusion proof per entry, verified offline by the
 * admin CLI (`audit verify-bundle`) with nothing but that key. True when the bundle verified.
 */
export async function auditFlow(cluster: LocalCluster, workDir: string, { step, info }: Out): Promise<boolean> {
  step('Audit log: a signed checkpoint over the RFC 6962 tree, and a bundle verified offline');
  const logKey = await cluster.api<{ keyName: string; publicKey: string }>('GET', '/v1/audit/log-key');
  info(`log key ${logKey.keyName}: ${logKey.publicKey}`);
  // Checkpoints are issued every few seconds while entries arrive: wait for one covering the log as it is now.
  const { checked: total } = await cluster.api<{ checked: number }>('GET', '/v1/audit/verify');
  let checkpoint = await cluster.api<{ note: string; treeSize: number; rootHash: string }>('GET', '/v1/audit/checkpoint');
  for (let i = 0; i < 100 && checkpoint.treeSize < total; i++) {
    await sleep(100);
    checkpoint = await cluster.api('GET', '/v1/audit/checkpoint');
  }
  info(`checkpoint: ${checkpoint.treeSize} entries, root ${checkpoint.rootHash}`);
  const bundle = await cluster.api<unknown>('GET', `/v1/audit/bundle?from=1&to=${checkpoint.treeSize}`);
  const file = join(workDir, 'audit-bundle.json');
  await writeFile(file, JSON.stringify(bundle));
  info(`$ roundtable-admin audit verify-bundle --bundle ${file} --log-key ${logKey.publicKey.slice(0, 16)}…`);
  const verdict = JSON.parse(await runToEnd('verify-bundle', ADMIN_MAIN, ['audit', 'verify-bundle', '--bundle', file, '--log-key', logKey.publicKey])) as {
    ok: boolean;
    reason?: string;
  };
  info(verdict.ok ? `verified offline: ${JSON.stringify(verdict)}` : `REFUSED: ${verdict.reason ?? ''}`);
  return verdict.ok;
}

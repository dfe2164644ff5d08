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
 * entries with a checkpoint that every signer node cosigned (each node witnessed that the log only grew)
 * and an inclusion proof per entry, verified offline by the admin CLI (`audit verify-bundle`) with nothing
 * but the log key and the nodes' identity keys. True when the bundle verified.
 */
export async function auditFlow(cluster: LocalCluster, workDir: string, { step, info }: Out): Promise<boolean> {
  step('Audit log: a checkpoint over the RFC 6962 tree, cosigned by the nodes, and a bundle verified offline');
  const logKey = await cluster.api<{ keyName: string; publicKey: string }>('GET', '/v1/audit/log-key');
  info(`log key ${logKey.keyName}: ${logKey.publicKey}`);
  const witnesses = cluster.identityKeys.length;
  // Checkpoints are issued every few seconds while entries arrive, and shown to the nodes to cosign: wait
  // for one covering the log as it is now that every node has cosigned.
  const { checked: total } = await cluster.api<{ checked: number }>('GET', '/v1/audit/verify');
  let status = await cluster.api<{ treeSize: number; witnesses: { label: string; cosignedSize: number | null }[] }>('GET', '/v1/audit/witnesses');
  const covered = () => status.treeSize >= total && status.witnesses.every((w) => w.cosignedSize !== null && w.cosignedSize >= total);
  for (let i = 0; i < 150 && !covered(); i++) {
    await sleep(100);
    status = await cluster.api('GET', '/v1/audit/witnesses');
  }
  for (const w of status.witnesses) info(`witness ${w.label}: cosigned size ${w.cosignedSize ?? 'none'}`);
  const bundle = await cluster.api<{ checkpoint: { treeSize: number; rootHash: string; cosignatures: unknown[] } }>(
    'GET',
    `/v1/audit/bundle?from=1&to=${total}&witnesses=${witnesses}`,
  );
  info(`checkpoint: ${bundle.checkpoint.treeSize} entries, root ${bundle.checkpoint.rootHash}, ${bundle.checkpoint.cosignatures.length} cosignatures`);
  const file = join(workDir, 'audit-bundle.json');
  await writeFile(file, JSON.stringify(bundle));
  const witnessArgs = cluster.identityKeys.flatMap((k) => ['--witness-key', k]);
  info(`$ roundtable-admin audit verify-bundle --bundle ${file} --log-key ${logKey.publicKey.slice(0, 16)}… ${cluster.identityKeys.map((k) => `--witness-key ${k.slice(0, 8)}…`).join(' ')}`);
  const verdict = JSON.parse(
    await runToEnd('verify-bundle', ADMIN_MAIN, ['audit', 'verify-bundle', '--bundle', file, '--log-key', logKey.publicKey, ...witnessArgs]),
  ) as { ok: boolean; reason?: string };
  info(verdict.ok ? `verified offline: ${JSON.stringify(verdict)}` : `REFUSED: ${verdict.reason ?? ''}`);
  return verdict.ok;
}

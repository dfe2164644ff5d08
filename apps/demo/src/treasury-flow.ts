import type { SignedDecision } from '#protocol';
import { decisionTranscript } from '#intent';
import type { LocalCluster } from '#harness';
import { verifyIndependently } from '#verify';
import { PAYROLL, UNKNOWN_RECIPIENT, transferIntent } from './demo-policies.js';

interface Out {
  step: (text: string) => void;
  info: (text: string) => void;
}

interface NodeDecisionView {
  nodeId: string;
  label: string;
  state: string;
  decision: SignedDecision | null;
}

interface RequestView {
  id: string;
  status: string;
  intentHash: string;
  digest: string;
  summary: string;
  signature: string | null;
  groupPublicKey: string | null;
  attempts: { participants: string[] }[];
  decisions: NodeDecisionView[];
  failure: { code: string; reason: string | null } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the request's view until `ready` holds (or 30 s pass). */
async function viewWhen(cluster: LocalCluster, id: string, ready: (v: RequestView) => boolean, what: string): Promise<RequestView> {
  const until = Date.now() + 30_000;
  for (;;) {
    const view = await cluster.api<RequestView>('GET', `/v1/signing-requests/${id}`);
    if (ready(view)) return view;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(view.decisions)}`);
    await sleep(100);
  }
}

const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

/**
 * The treasury flow of issue 9: a 2,500 USDC payroll transfer as an EIP-712 intent. Node 1's policy allows
 * it (under its limits), node 2's asks its operator, who approves it with `signer approvals approve`, node 3's
 * denies it (over its 1,000 USDC limit). The signature of nodes 1 and 2 is checked over the digest, each
 * node's signed decision against its identity key, by verifiers that share no code with the signer. Then a
 * transfer to an address no policy knows, which a quorum of nodes rejects at once. `ok` when all held;
 * `key` is the treasury key, for the agent flow.
 */
export async function treasuryFlow(cluster: LocalCluster, { step, info }: Out): Promise<{ ok: boolean; key: { id: string; groupPublicKey: string } }> {
  let ok = true;
  const label = (nodeId: string) => `node-${cluster.nodeIds.indexOf(nodeId) + 1}`;

  step('Treasury: a 2-of-3 secp256k1 key for the USDC treasury');
  const key = await cluster.dealKey('secp256k1', 2);
  info(`key ${key.id}, group public key ${key.groupPublicKey}`);

  step('A proposer submits an intent: pay 2,500 USDC to payroll on Ethereum mainnet (EIP-712 Transfer)');
  const created = await cluster.api<RequestView>('POST', '/v1/signing-requests', {
    keyId: key.id,
    payload: transferIntent(PAYROLL, '2500000000', 1),
    chainId: 1,
    sequence: 1,
    description: 'December payroll',
  });
  info(`request ${created.id}: ${created.summary}`);
  info(`intent hash ${created.intentHash}`);
  info(`digest (EIP-712 hash, what FROST signs) ${created.digest}`);

  const nodeOf = (v: RequestView, i: number) => v.decisions.find((d) => d.nodeId === cluster.nodeIds[i]);
  const pending = await viewWhen(
    cluster,
    created.id,
    (v) => nodeOf(v, 0)?.state === 'approved' && nodeOf(v, 1)?.state === 'awaiting_operator' && nodeOf(v, 2)?.state === 'declined',
    'node-1 to approve, node-2 to wait for its operator and node-3 to decline',
  );
  for (const d of pending.decisions) {
    info(`${label(d.nodeId)}: ${d.state}${d.decision ? ` (${d.decision.by}, rule ${d.decision.rule ?? '-'}: ${d.decision.reason})` : ''}`);
  }

  step("Node 2's operator reviews the proposal on the node's own host (`signer approvals list`, `show`)");
  info(`$ signer approvals list --keystore ${cluster.keystores[1]}`);
  console.log(indent(await cluster.signerCommand(1, ['approvals', 'list', '--keystore', cluster.keystores[1]!])));
  info(`$ signer approvals show ${created.id}`);
  console.log(indent(await cluster.signerCommand(1, ['approvals', 'show', created.id, '--keystore', cluster.keystores[1]!])));
  const shown = JSON.parse(
    await cluster.signerCommand(1, ['approvals', 'show', created.id, '--keystore', cluster.keystores[1]!, '--json']),
  ) as { hashes: { intentHash: string; digest: string } };
  const same = shown.hashes.intentHash === created.intentHash && shown.hashes.digest === created.digest;
  ok &&= same;
  info(`the node recomputed the intent hash and digest itself: ${same ? 'they match the coordinator\'s' : 'MISMATCH'}`);

  step('The operator approves it (`signer approvals approve`)');
  console.log(indent(await cluster.signerCommand(1, ['approvals', 'approve', created.id, '--keystore', cluster.keystores[1]!])));
  const done = await cluster.waitForOutcome<RequestView>(created.id);
  if (done.status !== 'completed' || !done.signature) throw new Error(`request ${done.status}: ${JSON.stringify(done.failure)}`);
  const signers = done.attempts.at(-1)?.participants.map(label) ?? [];
  info(`signed by ${signers.join(' + ')}: ${done.signature}`);
  const digestValid = await verifyIndependently('secp256k1', done.signature, Buffer.from(done.digest, 'hex'), key.groupPublicKey);
  ok &&= digestValid;
  info(`signature over the digest, checked with elliptic and node:crypto: ${digestValid ? 'VALID' : 'INVALID'}`);

  step("Each node's decision, signed by its identity key over the intent hash, checked with OpenSSL Ed25519");
  const nodes = await cluster.api<{ id: string; publicKey: string }[]>('GET', '/v1/nodes');
  for (const d of done.decisions) {
    if (!d.decision) continue;
    const publicKey = nodes.find((n) => n.id === d.nodeId)?.publicKey ?? '';
    const valid =
      d.decision.intentHash === done.intentHash &&
      (await verifyIndependently('ed25519', d.decision.signature, decisionTranscript(d.decision), publicKey));
    ok &&= valid;
    info(`${label(d.nodeId)} ${d.decision.verdict} by ${d.decision.by} (policy ${d.decision.policyHash.slice(0, 12)}…, rule ${d.decision.rule ?? '-'}): ${valid ? 'VALID' : 'INVALID'}`);
  }

  step('A transfer to an address no policy knows: node 1 and node 3 decline, more than n - t, so it is rejected at once');
  const stranger = await cluster.api<RequestView>('POST', '/v1/signing-requests', {
    keyId: key.id,
    payload: transferIntent(UNKNOWN_RECIPIENT, '750000000', 2),
    chainId: 1,
    sequence: 2,
    description: 'Vendor invoice',
  });
  const rejected = await cluster.waitForOutcome<RequestView>(stranger.id);
  const wasRejected = rejected.status === 'failed' && rejected.failure?.code === 'REJECTED';
  ok &&= wasRejected;
  info(`request ${stranger.id}: ${rejected.status} ${rejected.failure?.code ?? ''}: ${rejected.failure?.reason ?? ''}`);
  info(`$ signer approvals list --keystore ${cluster.keystores[1]} (node 2's operator is no longer asked)`);
  console.log(indent(await cluster.signerCommand(1, ['approvals', 'list', '--keystore', cluster.keystores[1]!])));
  return { ok, key };
}

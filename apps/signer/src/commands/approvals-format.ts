import type { ApprovalDecided, ApprovalDetail, ApprovalItem, GrantDecided, GrantDetail, GrantItem } from '#signer';
import { formatGrantDetail } from './grants-format.js';

/** How `signer approvals` prints for a person (the `--json` flag prints the channel's own JSON instead). */

const iso = (ms: number): string => new Date(ms).toISOString();

/** One line per approval, with its kind: a request, or a session-key grant the grant rules left to the operator. */
export function formatList(items: readonly (ApprovalItem | GrantItem)[]): string {
  if (items.length === 0) return 'no approvals on this node';
  return items
    .map((a) =>
      a.kind === 'request'
        ? `${a.requestId}  request  ${a.state.padEnd(8)}  deadline ${iso(a.deadline)}  ${a.summary}\n    ${a.rule ? `rule ${a.rule}: ` : ''}${a.reason}`
        : `${a.grantId}  grant    ${a.state.padEnd(8)}  until    ${iso(a.validUntil)}  ${a.label} (for ${a.grantee})\n    ${a.rule ? `grant rule ${a.rule}: ` : ''}${a.reason}`,
    )
    .join('\n');
}

export function formatDetail(a: ApprovalDetail | GrantDetail): string {
  if (a.kind === 'grant') {
    const lines = [formatGrantDetail(a)];
    if (a.state === 'awaiting') lines.push(`decide with: signer approvals approve ${a.grantId}  |  signer approvals reject ${a.grantId} --reason "..."`);
    return lines.join('\n');
  }
  const lines = [`request ${a.requestId}: ${a.state}`, `  ${a.headline}`];
  if (a.blind) lines.push('  WARNING: a blind digest. Nothing of what it signs can be shown; compare the digest with its source.');
  const width = Math.max(...a.fields.map((f) => f.label.length), 0);
  // The summary's own `key` line gains the key's suite and threshold, as this node holds them.
  for (const field of a.fields) {
    const value = field.label === 'key' ? `${field.value} (${a.suite}, ${a.threshold} signers needed)` : field.value;
    lines.push(`  ${field.label.padEnd(width)}  ${value}`);
  }
  lines.push('policy', `  asked by rule ${a.rule ?? '(none)'}: ${a.reason}`, `  policy hash  ${a.policyHash}`);
  lines.push('hashes (compare them on another device)');
  const hashes: [string, string | undefined][] = [
    ['intent hash', a.hashes.intentHash],
    ['digest signed', a.hashes.digest],
    ['EIP-712 domain separator', a.hashes.domainSeparator],
    ['EIP-712 struct hash', a.hashes.structHash],
  ];
  for (const [label, value] of hashes) if (value !== undefined) lines.push(`  ${label.padEnd(24)}  ${value}`);
  if (a.decision) {
    const d = a.decision;
    lines.push('decision', `  ${d.verdict} by the ${d.by} at ${iso(d.decidedAt)}: ${d.reason}`, `  signature  ${d.signature}`);
  } else if (a.state === 'awaiting') {
    lines.push(`decide with: signer approvals approve ${a.requestId}  |  signer approvals reject ${a.requestId} --reason "..."`);
  }
  return lines.join('\n');
}

export function formatDecided(r: ApprovalDecided | GrantDecided): string {
  const verb = r.decision.verdict === 'approve' ? 'approved' : 'rejected';
  if (r.approval.kind === 'grant') {
    const delivery = r.sent ? 'sent to the coordinator' : 'kept on the node: the node is not connected now; the coordinator receives it when it proposes the grant again';
    return `${verb} grant ${r.approval.grantId} (grant hash ${r.approval.grantHash}); the decision is signed by this node and ${delivery}`;
  }
  const delivery = r.sent
    ? 'sent to the coordinator'
    : 'kept on the node: the node is not connected now; the coordinator receives it when it proposes the request again';
  return `${verb} request ${r.approval.requestId} (intent hash ${'intentHash' in r.decision ? r.decision.intentHash : ''}); the decision is signed by this node and ${delivery}`;
}

import type { GrantDetail, GrantItem, GrantRevoked } from '#signer';

/** How `signer grants` prints for a person (`--json` prints the channel's own JSON instead). */

const iso = (ms: number): string => new Date(ms).toISOString();

export function formatGrantList(items: readonly GrantItem[]): string {
  if (items.length === 0) return 'no grants on this node';
  return items
    .map((g) => `${g.grantId}  ${g.state.padEnd(8)}  until ${iso(g.validUntil)}  ${g.label} (for ${g.grantee})  ${g.requests} request(s) signed here`)
    .join('\n');
}

/** The grant for an operator: what it allows in plain words, who may use it, its validity, its hash, the decision. */
export function formatGrantDetail(g: GrantDetail): string {
  const lines = [
    `grant ${g.grantId}: ${g.state}`,
    `  label       ${g.label}`,
    `  key         ${g.keyId}`,
    `  grantee     ${g.grantee}`,
    `  valid       from ${iso(g.validAfter)} until ${iso(g.validUntil)}`,
    `  proposed by ${g.grant.proposer}`,
    'scope (everything else is denied)',
    ...g.scope.map((line) => `  ${line}`),
    `requests signed under it on this node: ${g.requests}`,
    'policy',
    `  ${g.rule ? `grant rule ${g.rule}` : 'no grant rule'}: ${g.reason}`,
    `  policy hash  ${g.policyHash}`,
    `grant hash (compare it on another device)`,
    `  ${g.grantHash}`,
  ];
  if (g.decision) {
    const d = g.decision;
    lines.push('decision', `  ${d.verdict} by the ${d.by} at ${iso(d.decidedAt)}: ${d.reason}`, `  signature  ${d.signature}`);
  }
  if (g.revocation) {
    const r = g.revocation;
    const told = r.by === 'coordinator' ? '' : r.reported ? ' (the coordinator acknowledged it)' : ' (not yet acknowledged by the coordinator: sent again on reconnect)';
    lines.push('revocation', `  revoked by the ${r.by} at ${iso(r.revokedAt)}: ${r.reason}${told}`);
  }
  return lines.join('\n');
}

export function formatRevoked(r: GrantRevoked): string {
  const delivery = r.sent
    ? 'the signed revocation was sent to the coordinator'
    : 'the node is not connected now: the signed revocation is sent to the coordinator when it reconnects';
  return `revoked grant ${r.grant.grantId} on this node: no share under it leaves this node from now on; ${delivery}`;
}

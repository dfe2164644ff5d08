import { text, timestamptz, uuid } from './column-options.js';

/**
 * The columns of a node's decision row, shared by request_decisions (migration 0006) and grant_decisions
 * (0008): the node (part of the primary key `<table>_pkey`), its verdict and who gave it (`source`), the
 * policy version, rule and reason, its signed time and signature, and when it was proposed and awaited.
 */
export const nodeDecisionColumns = (table: string) => ({
  nodeId: { ...uuid('node_id'), primary: true, primaryKeyConstraintName: `${table}_pkey` },
  verdict: text('verdict', true),
  by: text('source', true),
  policyHash: text('policy_hash', true),
  rule: text('rule', true),
  reason: text('reason', true),
  decidedAt: timestamptz('decided_at', true),
  signature: text('signature', true),
  proposedAt: timestamptz('proposed_at', true),
  awaitingSince: timestamptz('awaiting_since', true),
  receivedAt: timestamptz('received_at'),
});

/** The checks both tables have: a verdict and source from their vocabularies, and a decision all signed or none of it. */
export const nodeDecisionChecks = (table: string) => [
  { name: `${table}_verdict_check`, expression: `verdict IN ('approve', 'decline')` },
  { name: `${table}_source_check`, expression: `source IN ('policy', 'operator')` },
  {
    name: `${table}_signed_check`,
    expression:
      '(verdict IS NULL AND source IS NULL AND decided_at IS NULL AND signature IS NULL) ' +
      'OR (verdict IS NOT NULL AND source IS NOT NULL AND decided_at IS NOT NULL AND signature IS NOT NULL ' +
      'AND policy_hash IS NOT NULL AND reason IS NOT NULL)',
  },
];

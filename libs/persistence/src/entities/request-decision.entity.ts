import { EntitySchema } from 'typeorm';
import type { DecisionRecord } from '#domain';
import { text, timestamptz, uuid } from './column-options.js';
import { NodeEntity } from './node.entity.js';
import { SigningRequestEntity } from './signing-request.entity.js';

/** migrations/0006_decisions.sql: where each node stands on a request (proposed, awaiting, its signed decision). */
export const RequestDecisionEntity = new EntitySchema<DecisionRecord>({
  name: 'RequestDecision',
  tableName: 'request_decisions',
  columns: {
    requestId: { ...uuid('request_id'), primary: true, primaryKeyConstraintName: 'request_decisions_pkey' },
    nodeId: { ...uuid('node_id'), primary: true, primaryKeyConstraintName: 'request_decisions_pkey' },
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
  },
  foreignKeys: [
    { name: 'request_decisions_request_id_fkey', target: SigningRequestEntity, columnNames: ['requestId'], referencedColumnNames: ['id'] },
    { name: 'request_decisions_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
  ],
  checks: [
    { name: 'request_decisions_verdict_check', expression: `verdict IN ('approve', 'decline')` },
    { name: 'request_decisions_source_check', expression: `source IN ('policy', 'operator')` },
    {
      name: 'request_decisions_signed_check',
      expression:
        '(verdict IS NULL AND source IS NULL AND decided_at IS NULL AND signature IS NULL) ' +
        'OR (verdict IS NOT NULL AND source IS NOT NULL AND decided_at IS NOT NULL AND signature IS NOT NULL ' +
        'AND policy_hash IS NOT NULL AND reason IS NOT NULL)',
    },
    { name: 'request_decisions_awaiting_check', expression: 'awaiting_since IS NULL OR (policy_hash IS NOT NULL AND reason IS NOT NULL)' },
  ],
});

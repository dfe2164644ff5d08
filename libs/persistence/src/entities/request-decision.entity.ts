import { EntitySchema } from 'typeorm';
import type { DecisionRecord } from '#domain';
import { uuid } from './column-options.js';
import { nodeDecisionChecks, nodeDecisionColumns } from './node-decision-columns.js';
import { NodeEntity } from './node.entity.js';
import { SigningRequestEntity } from './signing-request.entity.js';

/** migrations/0006_decisions.sql: where each node stands on a request (proposed, awaiting, its signed decision). */
export const RequestDecisionEntity = new EntitySchema<DecisionRecord>({
  name: 'RequestDecision',
  tableName: 'request_decisions',
  columns: {
    requestId: { ...uuid('request_id'), primary: true, primaryKeyConstraintName: 'request_decisions_pkey' },
    ...nodeDecisionColumns('request_decisions'),
  },
  foreignKeys: [
    { name: 'request_decisions_request_id_fkey', target: SigningRequestEntity, columnNames: ['requestId'], referencedColumnNames: ['id'] },
    { name: 'request_decisions_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
  ],
  checks: [
    ...nodeDecisionChecks('request_decisions'),
    { name: 'request_decisions_awaiting_check', expression: 'awaiting_since IS NULL OR (policy_hash IS NOT NULL AND reason IS NOT NULL)' },
  ],
});

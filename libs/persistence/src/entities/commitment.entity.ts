import { EntitySchema } from 'typeorm';
import type { CommitmentRecord } from '#domain';
import { primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { KeyEntity } from './key.entity.js';
import { NodeEntity } from './node.entity.js';
import { SigningAttemptEntity } from './signing-attempt.entity.js';
import { SigningRequestEntity } from './signing-request.entity.js';

/** Each nonce element's single use per key is enforced by NonceElementEntity (nonce_elements). */
export const CommitmentEntity = new EntitySchema<CommitmentRecord>({
  name: 'Commitment',
  tableName: 'commitments',
  columns: {
    id: primaryUuid('commitments'),
    keyId: uuid('key_id'),
    requestId: uuid('request_id'),
    nodeId: uuid('node_id'),
    identifier: text('identifier'),
    hiding: text('hiding'),
    binding: text('binding'),
    status: text('status'),
    attemptId: uuid('attempt_id', true),
    receivedAt: timestamptz('received_at'),
  },
  foreignKeys: [
    { name: 'commitments_key_id_fkey', target: KeyEntity, columnNames: ['keyId'], referencedColumnNames: ['id'] },
    { name: 'commitments_request_id_fkey', target: SigningRequestEntity, columnNames: ['requestId'], referencedColumnNames: ['id'] },
    { name: 'commitments_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
    { name: 'commitments_attempt_id_fkey', target: SigningAttemptEntity, columnNames: ['attemptId'], referencedColumnNames: ['id'] },
  ],
  checks: [
    { name: 'commitments_status_check', expression: `status IN ('ready', 'assigned', 'used', 'burned')` },
    { name: 'commitments_attempt_check', expression: `attempt_id IS NOT NULL OR status IN ('ready', 'burned')` },
  ],
  indices: [
    { name: 'commitments_request_id_status_idx', columns: ['requestId', 'status'] },
    { name: 'commitments_attempt_id_idx', columns: ['attemptId'] },
  ],
});

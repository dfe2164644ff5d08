import { EntitySchema } from 'typeorm';
import type { ShareRecord } from '#domain';
import { boolean, text, timestamptz, uuid } from './column-options.js';
import { NodeEntity } from './node.entity.js';
import { SigningAttemptEntity } from './signing-attempt.entity.js';
import { SigningRequestEntity } from './signing-request.entity.js';

export const SignatureShareEntity = new EntitySchema<ShareRecord>({
  name: 'SignatureShare',
  tableName: 'signature_shares',
  columns: {
    attemptId: { ...uuid('attempt_id'), primary: true, primaryKeyConstraintName: 'signature_shares_pkey' },
    requestId: uuid('request_id'),
    nodeId: { ...uuid('node_id'), primary: true, primaryKeyConstraintName: 'signature_shares_pkey' },
    identifier: text('identifier'),
    share: text('share'),
    valid: boolean('valid', true),
    receivedAt: timestamptz('received_at'),
  },
  foreignKeys: [
    { name: 'signature_shares_attempt_id_fkey', target: SigningAttemptEntity, columnNames: ['attemptId'], referencedColumnNames: ['id'] },
    { name: 'signature_shares_request_id_fkey', target: SigningRequestEntity, columnNames: ['requestId'], referencedColumnNames: ['id'] },
    { name: 'signature_shares_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
  ],
  indices: [{ name: 'signature_shares_request_id_idx', columns: ['requestId'] }],
});

import { EntitySchema } from 'typeorm';
import { text, uuid } from './column-options.js';
import { CommitmentEntity } from './commitment.entity.js';
import { KeyEntity } from './key.entity.js';

/** One nonce element (a commitment's hiding or binding point) a key has seen: each may appear once, ever. */
export interface NonceElementRow {
  keyId: string;
  element: string;
  commitmentId: string;
}

/** The constraint that makes a nonce element acceptable once per key, in either position. */
export const NONCE_ELEMENT_REUSE_CONSTRAINT = 'nonce_elements_pkey';

export const NonceElementEntity = new EntitySchema<NonceElementRow>({
  name: 'NonceElement',
  tableName: 'nonce_elements',
  columns: {
    keyId: { ...uuid('key_id'), primary: true, primaryKeyConstraintName: NONCE_ELEMENT_REUSE_CONSTRAINT },
    element: { ...text('element'), primary: true, primaryKeyConstraintName: NONCE_ELEMENT_REUSE_CONSTRAINT },
    commitmentId: uuid('commitment_id'),
  },
  foreignKeys: [
    { name: 'nonce_elements_key_id_fkey', target: KeyEntity, columnNames: ['keyId'], referencedColumnNames: ['id'] },
    { name: 'nonce_elements_commitment_id_fkey', target: CommitmentEntity, columnNames: ['commitmentId'], referencedColumnNames: ['id'] },
  ],
});

import type { EntitySchemaColumnOptions, ValueTransformer } from 'typeorm';

/** node-postgres returns int8 as a string, PGlite as a number; the records want a number (safe integers). */
const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** Column helpers: the database name is always given (snake_case), nullability always explicit. */
export const uuid = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'uuid', nullable });
export const text = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'text', nullable });
export const integer = (name: string): EntitySchemaColumnOptions => ({ name, type: 'integer', nullable: false });
export const bigint = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'bigint', nullable, transformer: bigintAsNumber });
export const boolean = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'boolean', nullable });
export const timestamptz = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'timestamptz', nullable });
export const jsonb = (name: string): EntitySchemaColumnOptions => ({ name, type: 'jsonb', nullable: false });

/** A single-column primary key with its constraint name as the migration spells it. */
export const primaryUuid = (table: string): EntitySchemaColumnOptions => ({
  ...uuid('id'),
  primary: true,
  primaryKeyConstraintName: `${table}_pkey`,
});

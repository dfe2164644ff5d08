import { compareField, type FieldCheck } from '#intent';
import type { TypedData } from '#protocol';
import type { FieldCondition } from './policy-schema.js';

/**
 * The policy's three-valued checks on EIP-712 message fields. Reading and comparing fields lives in
 * libs/intent (typed-fields.ts), shared with the grant scope engine so that the coordinator and every
 * node read a field the same way; this module keeps the policy's names for it.
 */

export { integerOf, readAddress, readAmount, readField, shown, type FieldRead, type TypedField } from '#intent';

/** A three-valued answer: a condition holds, does not hold, or cannot be evaluated. */
export type Check = FieldCheck;

export const YES: Check = { state: 'yes' };
export const no = (reason: string): Check => ({ state: 'no', reason });
export const unknown = (reason: string): Check => ({ state: 'unknown', reason });

/** Checks every operator of a field condition against the message (all must hold). */
export const checkField = (typedData: TypedData, condition: FieldCondition): Check => compareField(typedData, condition);

import type { TypedData } from '#protocol';

/**
 * Reading EIP-712 message fields through the typed data's declared types, shared by the node policy
 * engine (libs/signer policy) and the grant scope engine (grant-scope.ts), so that a field constraint
 * means the same on the coordinator and on every node. A path resolves only through fields the types
 * declare (so a value the signature does not cover is never read), and a leaf is compared by its EIP-712
 * type (integers as bigint, addresses and bytes case-insensitively). Anything that cannot be read or
 * compared is `unknown`, never `no`: the caller fails closed on it.
 */

/** A three-valued answer: a condition holds, does not hold, or cannot be evaluated. */
export type FieldCheck = { state: 'yes' } | { state: 'no'; reason: string } | { state: 'unknown'; reason: string };

const YES: FieldCheck = { state: 'yes' };
const no = (reason: string): FieldCheck => ({ state: 'no', reason });
const unknown = (reason: string): FieldCheck => ({ state: 'unknown', reason });

/** A message field as signed: its value and declared EIP-712 type. */
export interface TypedField {
  value: unknown;
  type: string;
}

export type FieldRead = { ok: true; field: TypedField } | { ok: false; reason: string };

const ARRAY = /^(.*)\[(\d*)\]$/;
const INT = /^u?int\d*$/;
const BYTES = /^bytes\d*$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Resolves `path` (dotted) in the message of `typedData`, through the types it declares. */
export function readField(typedData: TypedData, path: string): FieldRead {
  let type = typedData.primaryType;
  let value: unknown = typedData.message;
  for (const segment of path.split('.')) {
    const array = ARRAY.exec(type);
    if (array) {
      if (!/^\d+$/.test(segment) || !Array.isArray(value)) return { ok: false, reason: `message.${path}: ${type} has no item ${segment}` };
      const index = Number(segment);
      if (index >= value.length) return { ok: false, reason: `message.${path} is missing (the array has ${value.length} items)` };
      value = value[index];
      type = array[1]!;
      continue;
    }
    const fields = typedData.types[type];
    if (!fields) return { ok: false, reason: `message.${path}: a ${type} has no field ${segment}` };
    const field = fields.find((f) => f.name === segment);
    if (!field) return { ok: false, reason: `message.${path} is missing (type ${type} declares no field ${segment})` };
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !(segment in value)) {
      return { ok: false, reason: `message.${path} is missing` };
    }
    value = (value as Record<string, unknown>)[segment];
    type = field.type;
  }
  return { ok: true, field: { value, type } };
}

/** An integer field's value as a bigint: a safe JSON integer or a decimal string; anything else is null. */
export function integerOf(value: unknown): bigint | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : null;
  if (typeof value === 'string' && /^-?(?:0|[1-9]\d*)$/.test(value) && value.length <= 80) return BigInt(value);
  return null;
}

/** A value for a reason a human reads: quoted, and cut short if long. */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  if (text.length <= 70) return text;
  // Cut on a code point boundary: half a surrogate pair would make the reason unstorable.
  const head = Array.from(text).slice(0, 60).join('');
  return `${head}…${text.endsWith('"') ? '"' : ''}`;
}

type Kind = 'integer' | 'address' | 'bytes' | 'bool' | 'string';

/** How a declared type compares; null for structs and arrays, which are not values. */
function kindOf(type: string): Kind | null {
  if (INT.test(type)) return 'integer';
  if (type === 'address') return 'address';
  if (BYTES.test(type)) return 'bytes';
  if (type === 'bool') return 'bool';
  if (type === 'string') return 'string';
  return null;
}

/** A value of a given kind in the comparable form: bigint, lower-case string, boolean, or string. */
function normalize(kind: Kind, value: unknown): bigint | string | boolean | null {
  switch (kind) {
    case 'integer':
      return integerOf(value);
    case 'address':
      return typeof value === 'string' && ADDRESS.test(value) ? value.toLowerCase() : null;
    case 'bytes':
      return typeof value === 'string' && /^0x[0-9a-fA-F]*$/.test(value) ? value.toLowerCase() : null;
    case 'bool':
      return typeof value === 'boolean' ? value : null;
    case 'string':
      return typeof value === 'string' ? value : null;
  }
}

/** A value a field is compared with: read as the field's declared EIP-712 type. */
export type FieldScalar = string | number | boolean;

export const FIELD_COMPARISONS = ['eq', 'ne', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte'] as const;
export type FieldComparisonOperator = (typeof FIELD_COMPARISONS)[number];

/**
 * A comparison on one message field; every operator given must hold (a range). The node policy's
 * `FieldCondition` and a grant's `GrantFieldConstraint` are both of this shape.
 */
export interface FieldComparison {
  path: string;
  eq?: FieldScalar | undefined;
  ne?: FieldScalar | undefined;
  in?: readonly FieldScalar[] | undefined;
  notIn?: readonly FieldScalar[] | undefined;
  lt?: string | number | undefined;
  lte?: string | number | undefined;
  gt?: string | number | undefined;
  gte?: string | number | undefined;
}

const SYMBOL: Record<FieldComparisonOperator, string> = { eq: '=', ne: '≠', in: 'in', notIn: 'not in', lt: '<', lte: '≤', gt: '>', gte: '≥' };

/** Checks every operator of a comparison against the message (all must hold). */
export function compareField(typedData: TypedData, comparison: FieldComparison): FieldCheck {
  const read = readField(typedData, comparison.path);
  if (!read.ok) return unknown(read.reason);
  const { value, type } = read.field;
  const label = `message.${comparison.path}`;
  const kind = kindOf(type);
  if (kind === null) return unknown(`${label} is a ${type}, not a value that can be compared`);
  const actual = normalize(kind, value);
  if (actual === null) return unknown(`${label} (${type}) has a value that cannot be read as one: ${shown(value)}`);

  for (const op of FIELD_COMPARISONS) {
    const given = comparison[op];
    if (given === undefined) continue;
    const list: readonly FieldScalar[] = Array.isArray(given) ? given : [given as FieldScalar];
    const operands = list.map((v) => normalize(kind, v));
    const bad = list.find((_, i) => operands[i] === null);
    if (bad !== undefined) return unknown(`the rule compares ${label} (${type}) with ${shown(bad)}, which is not a ${type}`);
    const holds = compare(op, actual, operands as (bigint | string | boolean)[]);
    if (holds === null) return unknown(`${label} is a ${type}: it has no order, so ${SYMBOL[op]} cannot be evaluated`);
    if (!holds) {
      const rhs = Array.isArray(given) ? `[${list.map(shown).join(', ')}]` : shown(given);
      return no(`${label} is ${shown(value)}, not ${SYMBOL[op]} ${rhs}`);
    }
  }
  return YES;
}

function compare(op: FieldComparisonOperator, actual: bigint | string | boolean, operands: (bigint | string | boolean)[]): boolean | null {
  const [first] = operands;
  switch (op) {
    case 'eq':
      return actual === first;
    case 'ne':
      return actual !== first;
    case 'in':
      return operands.includes(actual);
    case 'notIn':
      return !operands.includes(actual);
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (typeof actual !== 'bigint' || typeof first !== 'bigint') return null;
      if (op === 'lt') return actual < first;
      if (op === 'lte') return actual <= first;
      if (op === 'gt') return actual > first;
      return actual >= first;
    }
  }
}

/** Reads an address field (declared `address`), lower-case, for allowlists and per-recipient limits. */
export function readAddress(typedData: TypedData, path: string): { ok: true; address: string } | { ok: false; reason: string } {
  const read = readField(typedData, path);
  if (!read.ok) return read;
  if (read.field.type !== 'address') return { ok: false, reason: `message.${path} is a ${read.field.type}, not an address` };
  const address = normalize('address', read.field.value);
  if (typeof address !== 'string') return { ok: false, reason: `message.${path} is not an address: ${shown(read.field.value)}` };
  return { ok: true, address };
}

/** Reads a non-negative integer field (declared int or uint) for amount limits. */
export function readAmount(typedData: TypedData, path: string): { ok: true; amount: bigint } | { ok: false; reason: string } {
  const read = readField(typedData, path);
  if (!read.ok) return read;
  if (!INT.test(read.field.type)) return { ok: false, reason: `message.${path} is a ${read.field.type}, not an integer amount` };
  const amount = integerOf(read.field.value);
  if (amount === null) return { ok: false, reason: `message.${path} is not an amount that parses: ${shown(read.field.value)}` };
  // A negative amount would give allowance back: it cannot be counted, so it is not allowed under a limit.
  if (amount < 0n) return { ok: false, reason: `message.${path} is negative (${amount}): it cannot be counted against a limit` };
  return { ok: true, amount };
}

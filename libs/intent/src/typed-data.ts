import { getTypesForEIP712Domain, hashDomain, hashStruct, hashTypedData, validateTypedData, type TypedDataDomain } from 'viem';
import type { TypedData } from '#protocol';
import { IntentError } from './intent-error.js';

/** The three EIP-712 hashes an operator compares against another device. */
export interface Eip712Hashes {
  domainSeparator: string;
  structHash: string;
  /** keccak256(0x1901 || domainSeparator || structHash): the bytes FROST signs. */
  digest: string;
}

type Fields = readonly { name: string; type: string }[];

/**
 * EIP-712 hashing of a typed-data intent through viem, after checks viem leaves to its caller: every
 * type a field names is a basic type or is defined, integers are integers (a number or a decimal string,
 * within their width), the message has exactly the fields of its type, and an `EIP712Domain` given in
 * `types` is the one the domain implies. Throws IntentError on anything else.
 */
export function eip712Hashes(typedData: TypedData): Eip712Hashes {
  const { domain, primaryType } = typedData;
  const impliedDomainType = getTypesForEIP712Domain({ domain: domain as TypedDataDomain });
  const given = typedData.types['EIP712Domain'];
  if (given && JSON.stringify(given) !== JSON.stringify(impliedDomainType)) {
    throw new IntentError(
      `types.EIP712Domain must list exactly the domain's fields in EIP-712 order: ${impliedDomainType.map((f) => `${f.type} ${f.name}`).join(', ')}`,
    );
  }
  const types: Record<string, Fields> = { ...typedData.types };
  delete types['EIP712Domain'];
  if (primaryType === 'EIP712Domain') throw new IntentError('primaryType cannot be EIP712Domain');
  if (!types[primaryType]) throw new IntentError(`primaryType ${primaryType} is not defined in types`);
  const message = normalizeStruct(types, primaryType, typedData.message, primaryType, 0);
  const input = { domain: domain as TypedDataDomain, types, primaryType, message } as const;
  try {
    validateTypedData(input as never);
    return {
      domainSeparator: hashDomain(domainInput(domain as TypedDataDomain, impliedDomainType)),
      structHash: hashStruct({ data: message, primaryType, types }),
      digest: hashTypedData(input as never),
    };
  } catch (e) {
    if (e instanceof IntentError) throw e;
    throw new IntentError(`typed data is not valid EIP-712: ${(e as { shortMessage?: string }).shortMessage ?? (e as Error).message}`);
  }
}

/** viem's `hashDomain` argument, typed loosely: its generic types cannot follow a domain known only at run time. */
const domainInput = (domain: TypedDataDomain, fields: Fields): Parameters<typeof hashDomain>[0] =>
  // tsc needs this cast; typescript-eslint's own type view of viem's generics calls it unnecessary.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  ({ domain, types: { EIP712Domain: fields } }) as unknown as Parameters<typeof hashDomain>[0];

const INT = /^(u?)int(\d*)$/;
const BYTES = /^bytes(\d+)$/;
const MAX_DEPTH = 16;

function normalizeStruct(types: Record<string, Fields>, type: string, value: unknown, path: string, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new IntentError(`${path}: typed data nests deeper than ${MAX_DEPTH} levels`);
  const fields = types[type]!;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IntentError(`${path} must be an object of type ${type}`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !fields.some((f) => f.name === k));
  if (extra.length > 0) throw new IntentError(`${path} has fields type ${type} does not define: ${extra.join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!(f.name in record)) throw new IntentError(`${path}.${f.name} is missing (type ${type} defines it)`);
    out[f.name] = normalizeValue(types, f.type, record[f.name], `${path}.${f.name}`, depth + 1);
  }
  return out;
}

function normalizeValue(types: Record<string, Fields>, type: string, value: unknown, path: string, depth: number): unknown {
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) throw new IntentError(`${path} must be an array (${type})`);
    if (array[2] !== '' && value.length !== Number(array[2])) throw new IntentError(`${path} must have ${array[2]} items (${type})`);
    return value.map((v, i) => normalizeValue(types, array[1]!, v, `${path}[${i}]`, depth + 1));
  }
  if (types[type]) return normalizeStruct(types, type, value, path, depth);
  const int = INT.exec(type);
  if (int) return toInteger(value, int[1] === 'u', int[2] === '' ? 256 : Number(int[2]), type, path);
  if (type === 'address' || type === 'string' || type === 'bytes' || BYTES.test(type)) {
    if (typeof value !== 'string') throw new IntentError(`${path} must be a string (${type})`);
    if (type === 'bytes' && !/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) throw new IntentError(`${path} must be 0x-prefixed hex (bytes)`);
    return value;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw new IntentError(`${path} must be true or false (bool)`);
    return value;
  }
  throw new IntentError(`${path} has type ${type}, which is neither a basic EIP-712 type nor defined in types`);
}

function toInteger(value: unknown, unsigned: boolean, bits: number, type: string, path: string): bigint {
  if (bits < 8 || bits > 256 || bits % 8 !== 0) throw new IntentError(`${path}: ${type} is not an EIP-712 integer type`);
  let n: bigint;
  if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === 'string' && /^-?(?:0|[1-9]\d*)$/.test(value) && value.length <= 80) n = BigInt(value);
  else throw new IntentError(`${path} must be an integer, as a number or a decimal string (${type})`);
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  if (n < min || n > max) throw new IntentError(`${path} is out of range for ${type}`);
  return n;
}

import { z } from 'zod';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { EpochMs, Text, Uuid, hexBytes, hexUpTo } from './primitives.js';

/**
 * A signing intent: what a proposer asks a key's nodes to sign, in the form every side (coordinator,
 * signer nodes, CLIs, console) hashes and reads. The bytes FROST signs are derived from `payload`
 * (libs/intent `signedBytes`), never carried beside it; `intentHash` covers every field.
 */

export const PAYLOAD_KINDS = ['text', 'bytes', 'eip191', 'eip712', 'digest'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

/** Version of the intent's canonical form; part of what `intentHash` covers. */
export const INTENT_VERSION = 1 as const;

/** Largest canonical JSON of an intent, in bytes: a `request.propose` frame must fit in one frame. */
export const MAX_INTENT_BYTES = 40 * 1024;

/** An EIP-155 chain id. */
export const ChainId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A 20-byte address, 0x-prefixed, any letter case (EIP-55 checksums are not required). */
export const EvmAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, '0x-prefixed 20-byte address');

/** Hex of whole bytes as Ethereum tools write it: 0x-prefixed, any case. */
const PrefixedHex = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, '0x-prefixed hex of whole bytes');

export const TextPayload = z.strictObject({ kind: z.literal('text'), text: Text(MAX_MESSAGE_BYTES).min(1) });
export const BytesPayload = z.strictObject({ kind: z.literal('bytes'), hex: hexUpTo(MAX_MESSAGE_BYTES).min(2) });
/** EIP-191 version 0x45 (personal_sign): the message as text, or as raw bytes (`{hex}`, 0x-prefixed). */
export const Eip191Payload = z.strictObject({
  kind: z.literal('eip191'),
  message: z.union([Text(MAX_MESSAGE_BYTES).min(1), z.strictObject({ hex: PrefixedHex.max(MAX_MESSAGE_BYTES * 2 + 2) })]),
});

export const Eip712Domain = z.strictObject({
  name: Text(200).optional(),
  version: Text(100).optional(),
  chainId: ChainId.optional(),
  verifyingContract: EvmAddress.optional(),
  salt: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, '0x-prefixed 32 bytes')
    .optional(),
});
export type Eip712Domain = z.infer<typeof Eip712Domain>;

const TypeName = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'an EIP-712 type name');
export const Eip712Field = z.strictObject({
  name: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'an EIP-712 field name'),
  type: z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*(?:\[\d*\])*$/, 'an EIP-712 type'),
});

/** JSON values of a typed message: integers may be given as numbers or as decimal strings. */
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([Text(MAX_MESSAGE_BYTES), z.number().int(), z.boolean(), z.null(), z.array(JsonValue).max(1024), z.record(Text(200), JsonValue)]),
);

export const TypedData = z.strictObject({
  domain: Eip712Domain,
  types: z.record(TypeName, z.array(Eip712Field).max(64)),
  primaryType: TypeName,
  /** Keys are storable text like the values (the intent is kept as jsonb). */
  message: z.record(Text(200), JsonValue),
});
export type TypedData = z.infer<typeof TypedData>;

export const Eip712Payload = z.strictObject({ kind: z.literal('eip712'), typedData: TypedData });

/** Hash names a prehashed digest may carry; shown to operators, never interpreted. */
export const DigestHash = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a hash name such as sha256, keccak256, bitcoin-sighash');
export const DigestPayload = z.strictObject({ kind: z.literal('digest'), hex: hexBytes(32), hash: DigestHash });

export const Payload = z.discriminatedUnion('kind', [TextPayload, BytesPayload, Eip191Payload, Eip712Payload, DigestPayload]);
export type Payload = z.infer<typeof Payload>;

/** The intent in canonical form: every field present, optional ones as null or the empty string. */
export const Intent = z.strictObject({
  version: z.literal(INTENT_VERSION),
  keyId: Uuid,
  payload: Payload,
  chainId: ChainId.nullable(),
  sequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
  deadline: EpochMs,
  /** The principal that proposed it (`principal:<id>`, or `admin` for the bootstrap token). */
  proposer: Text(200).min(1),
  description: Text(2000),
  note: Text(2000),
});
export type Intent = z.infer<typeof Intent>;

// ---------- decisions ----------

export const DECISION_VERDICTS = ['approve', 'decline'] as const;
/** Who decided on the node: a standing rule of its policy, or its operator by hand. */
export const DECISION_SOURCES = ['policy', 'operator'] as const;

/**
 * A node's decision on an intent, signed by its identity key (Ed25519) over `decisionTranscript`
 * (libs/intent): the request, the intent hash, the verdict, the policy version and rule that decided,
 * the reason and the time. Anyone with the node's public key can check it offline.
 */
export const SignedDecision = z.strictObject({
  requestId: Uuid,
  intentHash: hexBytes(32),
  verdict: z.enum(DECISION_VERDICTS),
  by: z.enum(DECISION_SOURCES),
  /** SHA-256 of the node's policy document as loaded. */
  policyHash: hexBytes(32),
  /** The rule that decided (its id), or null when nothing matched (deny by default). */
  rule: Text(200).nullable(),
  reason: Text(500),
  decidedAt: EpochMs,
  signature: hexBytes(64),
});
export type SignedDecision = z.infer<typeof SignedDecision>;
export type UnsignedDecision = Omit<SignedDecision, 'signature'>;

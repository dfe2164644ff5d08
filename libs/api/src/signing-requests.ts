import { z } from 'zod';
import {
  ATTEMPT_STATUSES,
  CULPRIT_REASONS,
  ChainId,
  DigestHash,
  Eip712Payload,
  EvmAddress,
  Intent,
  MAX_MESSAGE_BYTES,
  NODE_DECISION_STATES,
  NonceCommitment,
  Payload,
  REQUEST_STATUSES,
  SignedDecision,
  SuiteId,
  Text,
  Uuid,
  hexBytes,
  hexRange,
  hexUpTo,
} from '#protocol';
import { IdParam, Timestamp, TimestampInput, pageQuery } from './common.js';
import { EvmWord } from './keys.js';

export const RequestStatus = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof RequestStatus>;

export const MessageEncoding = z.enum(['hex', 'utf8']);
export type MessageEncoding = z.infer<typeof MessageEncoding>;

export const AttemptStatus = z.enum(ATTEMPT_STATUSES);
export type AttemptStatus = z.infer<typeof AttemptStatus>;

export const CulpritReason = z.enum(CULPRIT_REASONS);
export type CulpritReason = z.infer<typeof CulpritReason>;

/** An idempotency key, in the body or the `Idempotency-Key` header (the body's wins). */
export const IdempotencyKey = Text(200).min(1);

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/**
 * Hex as users write it: an optional `0x`, any letter case; read as lower-case hex without the prefix
 * (the canonical spelling an intent carries).
 */
const hexInput = (maxBytes: number) =>
  z
    .string()
    .max(maxBytes * 2 + 2)
    .regex(/^(?:0[xX])?(?:[0-9a-fA-F]{2})*$/, 'hex of whole bytes (an optional 0x, any case)')
    .transform((s) => s.replace(/^0[xX]/, '').toLowerCase())
    .refine((h) => h.length <= maxBytes * 2, `at most ${maxBytes} bytes`);

/**
 * A payload as a client may write it (libs/protocol `Payload` with user spellings): `bytes` and
 * `digest` hex with an optional 0x in any case, an `eip191` message's `{hex}` in any case. Parsed, it is
 * a canonical `Payload`.
 */
export const PayloadInput = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('text'),
    text: Text(MAX_MESSAGE_BYTES)
      .min(1)
      .refine((t) => utf8Length(t) <= MAX_MESSAGE_BYTES, `at most ${MAX_MESSAGE_BYTES} bytes in UTF-8`),
  }),
  z.strictObject({ kind: z.literal('bytes'), hex: hexInput(MAX_MESSAGE_BYTES).refine((h) => h.length > 0, 'at least one byte') }),
  z.strictObject({
    kind: z.literal('eip191'),
    message: z.union([
      Text(MAX_MESSAGE_BYTES).min(1),
      z.strictObject({ hex: hexInput(MAX_MESSAGE_BYTES).transform((h) => `0x${h}`) }),
    ]),
  }),
  Eip712Payload,
  z.strictObject({
    kind: z.literal('digest'),
    hex: hexInput(32).refine((h) => h.length === 64, 'exactly 32 bytes'),
    hash: DigestHash,
  }),
]);
export type PayloadInput = z.input<typeof PayloadInput>;

/** The short form's message: hex (optional `0x`, any case) or text, per `encoding`. */
const ShortFormMessage = z
  .string()
  .min(1)
  .max(MAX_MESSAGE_BYTES * 2 + 2);

/**
 * `POST /v1/signing-requests`: exactly one of `payload` or the short form `message` (+ `encoding`,
 * default utf8: `{kind: 'text'}`; hex: `{kind: 'bytes'}`). Parsed, the body carries the canonical
 * `payload` either way; the byte limits that depend on the key (a signing package must fit in one
 * frame) are the service's checks.
 */
export const CreateSigningRequestBody = z
  .strictObject({
    keyId: Uuid,
    payload: PayloadInput.optional(),
    message: ShortFormMessage.optional(),
    encoding: MessageEncoding.optional(),
    description: Text(2000).default(''),
    note: Text(2000).default(''),
    /** EIP-155 chain id; required for `eip712`, and equal to the domain's chainId when it has one. */
    chainId: ChainId.optional(),
    /** At most once per key. */
    sequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    deadline: TimestampInput.optional(),
    /** The `Idempotency-Key` header is used when the body has none. */
    idempotencyKey: IdempotencyKey.optional(),
  })
  .transform(({ payload, message, encoding, ...rest }, ctx) => {
    if ((payload === undefined) === (message === undefined)) {
      ctx.issues.push({ code: 'custom', path: ['payload'], message: 'give exactly one of payload or message', input: payload });
      return z.NEVER;
    }
    if (payload !== undefined) {
      if (encoding !== undefined) {
        ctx.issues.push({ code: 'custom', path: ['encoding'], message: 'encoding belongs to the short form (message); payload says its kind', input: encoding });
        return z.NEVER;
      }
      return { ...rest, payload };
    }
    const short = shortFormPayload(message!, encoding ?? 'utf8');
    if (typeof short === 'string') {
      ctx.issues.push({ code: 'custom', path: ['message'], message: short, input: message });
      return z.NEVER;
    }
    return { ...rest, payload: short };
  });
export type CreateSigningRequestBody = z.output<typeof CreateSigningRequestBody>;
export type CreateSigningRequestInput = z.input<typeof CreateSigningRequestBody>;

/** The payload the short form stands for, or why it has none. */
function shortFormPayload(message: string, encoding: MessageEncoding): Payload | string {
  const parsed = PayloadInput.safeParse(encoding === 'hex' ? { kind: 'bytes', hex: message } : { kind: 'text', text: message });
  return parsed.success ? parsed.data : (parsed.error.issues[0]?.message ?? 'not a valid message');
}

/**
 * `GET /v1/signing-requests/:id?waitMs=&safeOwner=`: wait up to `waitMs` for the request to be final;
 * `safeOwner` (an EIP-1271 signer contract that owns a Safe) adds `evm.safeSignature`, framed for it.
 */
export const GetSigningRequestQuery = z.strictObject({
  waitMs: z.coerce.number().int().min(0).max(60_000).default(0),
  safeOwner: EvmAddress.optional(),
});
export type GetSigningRequestQuery = z.infer<typeof GetSigningRequestQuery>;

/** `GET /v1/signing-requests?status=&keyId=&proposer=&limit=&offset=`: newest first. */
export const ListSigningRequestsQuery = z.strictObject({
  status: RequestStatus.optional(),
  keyId: IdParam.optional(),
  /** `admin` or `principal:<id>`. */
  proposer: Text(200).min(1).optional(),
  ...pageQuery(500, 50),
});
export type ListSigningRequestsQuery = z.infer<typeof ListSigningRequestsQuery>;

/** A node excluded from a request, and why (docs/protocol.md section 5). */
export const CulpritResponse = z.object({
  nodeId: Uuid,
  reason: CulpritReason,
  attemptId: Uuid.optional(),
  detail: z.string().optional(),
});

export const AttemptResponse = z.object({
  id: Uuid,
  seq: z.number().int().min(1),
  status: AttemptStatus,
  /** Node ids in commitment-list order. */
  participants: z.array(Uuid),
  /** The signing package's commitment list (public), sorted by identifier value. */
  commitments: z.array(NonceCommitment),
  startedAt: Timestamp,
  deadline: Timestamp,
  endedAt: Timestamp.nullable(),
  failureReason: z.string().nullable(),
});
export type AttemptResponse = z.infer<typeof AttemptResponse>;

/** A line of an intent's human summary. */
export const SummaryFieldResponse = z.object({ label: z.string(), value: z.string() });

/** What an operator sees of an intent (libs/intent `summarizeIntent`): decoded fields and the raw hashes. */
export const IntentSummaryResponse = z.object({
  headline: z.string(),
  /** True for a prehashed digest: nothing of its content can be shown. */
  blind: z.boolean(),
  fields: z.array(SummaryFieldResponse),
  hashes: z.object({
    intentHash: hexBytes(32).nullable(),
    digest: hexUpTo(MAX_MESSAGE_BYTES),
    domainSeparator: hexBytes(32).optional(),
    structHash: hexBytes(32).optional(),
  }),
});
export type IntentSummaryResponse = z.infer<typeof IntentSummaryResponse>;

export const NodeDecisionState = z.enum(NODE_DECISION_STATES);
export type NodeDecisionState = z.infer<typeof NodeDecisionState>;

/** Where one member of the request's key stands, with its signed decision once it made one. */
export const NodeDecisionResponse = z.object({
  nodeId: Uuid,
  label: z.string(),
  state: NodeDecisionState,
  decision: SignedDecision.nullable(),
  /** Set while the node's operator is asked (state `awaiting_operator`). */
  awaiting: z.object({ rule: z.string().nullable(), reason: z.string(), since: Timestamp }).nullable(),
});
export type NodeDecisionResponse = z.infer<typeof NodeDecisionResponse>;

/**
 * A completed `secp256k1` request's signature as EVM verifiers take it (libs/evm; docs/protocol.md
 * section 11): R decompressed, each a 32-byte word, and the Safe contract-signature framing on request.
 */
export const EvmSignatureResponse = z.object({
  /** `abi.encode(uint256 rx, uint256 ry, uint256 z)`: the `signature` bytes FrostEip1271Signer checks. */
  signature: z.string().regex(/^0x[0-9a-f]{192}$/, 'abi.encode of three words'),
  rx: EvmWord,
  ry: EvmWord,
  z: EvmWord,
  /** The key's verifier address (the key view's `evm.address`), checksummed. */
  verifierAddress: EvmAddress,
  /**
   * With `?safeOwner=`: the Safe v1.4.1 contract signature for that owner (`{r = owner, s = 65, v = 0}`,
   * then the length and `signature`), the `signatures` argument of `execTransaction` when that contract
   * is the only signing owner; else null.
   */
  safeSignature: z.string().regex(/^0x(?:[0-9a-f]{2})+$/, '0x-prefixed bytes').nullable(),
  /** The `safeOwner` asked for, checksummed (EIP-55); null without `?safeOwner=`. */
  safeOwner: EvmAddress.nullable(),
});
export type EvmSignatureResponse = z.infer<typeof EvmSignatureResponse>;

/** `GET /v1/signing-requests/:id`, `POST /v1/signing-requests`, and each row of the list. */
export const SigningRequestResponse = z.object({
  id: Uuid,
  keyId: Uuid,
  suite: SuiteId,
  status: RequestStatus,
  /** The payload as the intent carries it (canonical spelling). */
  payload: Payload,
  /** The canonical intent: what every node recomputes the digest and the intent hash from. */
  intent: Intent,
  /** SHA-256 of "roundtable/intent/v1\n" + the intent's canonical JSON; null for requests made before intents. */
  intentHash: hexBytes(32).nullable(),
  /** The bytes FROST signs, hex, derived from the payload. */
  digest: hexUpTo(MAX_MESSAGE_BYTES),
  /** One line: the headline, the chain and the description. */
  summary: z.string(),
  summaryDetail: IntentSummaryResponse,
  chainId: ChainId.nullable(),
  sequence: z.number().int().nonnegative().nullable(),
  note: z.string(),
  /** `admin` (the bootstrap token) or `principal:<id>`. */
  proposer: z.string(),
  /** One per member of the key, in the key's member order. */
  decisions: z.array(NodeDecisionResponse),
  /** The exact bytes signed, hex: the same as `digest` (kept for clients written before intents). */
  message: hexUpTo(MAX_MESSAGE_BYTES),
  /** The same bytes as text when the payload is `text` (encoding utf8), else null. */
  messageText: z.string().nullable(),
  /** `utf8` for text payloads, `hex` for every other kind. */
  messageEncoding: MessageEncoding,
  description: z.string(),
  deadline: Timestamp,
  idempotencyKey: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  completedAt: Timestamp.nullable(),
  attempts: z.array(AttemptResponse),
  /** Set when the request failed, expired or was cancelled. */
  failure: z
    .object({
      code: z.string(),
      reason: z.string().nullable(),
      culprits: z.array(CulpritResponse),
    })
    .nullable(),
  culprits: z.array(CulpritResponse),
  /** The suite's signature encoding, once completed. */
  signature: hexRange(64, 114).nullable(),
  /** The suite's standard encoding (x-only for secp256k1-tr). */
  groupPublicKey: hexRange(32, 57).nullable(),
  /** For a completed request of a `secp256k1` key: its EVM encodings; null otherwise. */
  evm: EvmSignatureResponse.nullable(),
});
export type SigningRequestResponse = z.infer<typeof SigningRequestResponse>;

export const SigningRequestListResponse = z.array(SigningRequestResponse);
export type SigningRequestListResponse = z.infer<typeof SigningRequestListResponse>;

/** `POST /v1/signing-requests/:id/cancel`: an optional reason, recorded in the request's failure and the audit log. */
export const CancelSigningRequestBody = z.strictObject({ reason: Text(500).min(1).optional() });
export type CancelSigningRequestBody = z.infer<typeof CancelSigningRequestBody>;

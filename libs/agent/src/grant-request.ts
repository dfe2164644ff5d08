import { PayloadInput } from '#api';
import { agentNonce, agentRequestText, intentHash } from '#intent';
import { INTENT_VERSION, Intent, type AgentAuthorization } from '#protocol';
import { AgentError } from './agent-error.js';
import type { SessionKey } from './session-key.js';

/** What the agent asks to have signed under a grant (the key is the grant's). */
export interface GrantRequestInput {
  /** A payload as `POST /v1/signing-requests` takes it (docs/protocol.md); read into its canonical spelling. */
  payload: PayloadInput;
  /** Required for `eip712` (and by a grant that names chain ids). */
  chainId?: number;
  sequence?: number;
  description?: string;
  note?: string;
}

/** Who an intent under a grant names as its proposer: the grant, not whoever proposed the grant. */
export const grantProposer = (grantId: string): string => `grant:${grantId.toLowerCase()}`;

/**
 * The canonical intent of a request under a grant, built as the coordinator's intake (libs/domain
 * `takeIn`) builds it from the same body: the payload in its canonical spelling, absent fields as null
 * or '', the proposer `grant:<id>` and the deadline the agent sends (explicit, so both sides hash the
 * same number). Throws AgentError VALIDATION_FAILED for what no coordinator would take.
 */
export function grantIntent(grant: { id: string; keyId: string }, input: GrantRequestInput, deadlineMs: number): { intent: Intent; intentHash: string } {
  const payload = PayloadInput.safeParse(input.payload);
  if (!payload.success) throw AgentError.invalid('payload', payload.error);
  const parsed = Intent.safeParse({
    version: INTENT_VERSION,
    keyId: grant.keyId,
    payload: payload.data,
    chainId: input.chainId ?? null,
    sequence: input.sequence ?? null,
    deadline: deadlineMs,
    proposer: grantProposer(grant.id),
    description: input.description ?? '',
    note: input.note ?? '',
  });
  if (!parsed.success) throw AgentError.invalid('intent', parsed.error);
  return { intent: parsed.data, intentHash: intentHash(parsed.data) };
}

/** The session key's authorization of one request: its signature over `agentRequestText`. */
export async function authorize(
  key: SessionKey,
  fields: { grantId: string; intentHash: string; nonce?: string; timestamp?: number },
): Promise<AgentAuthorization> {
  const unsigned = {
    grantId: fields.grantId.toLowerCase(),
    intentHash: fields.intentHash,
    // 16 random bytes, hex: the coordinator and the nodes refuse a nonce seen before under the grant.
    nonce: fields.nonce ?? agentNonce(),
    timestamp: fields.timestamp ?? Date.now(),
  };
  return { ...unsigned, signature: await key.sign(agentRequestText(unsigned)) };
}

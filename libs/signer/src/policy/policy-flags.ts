import type { z } from 'zod';
import { Uuid } from '#protocol';
import { SignerError } from '../signer-error.js';
import { POLICY_DOCUMENT_VERSION, type PolicyDocument, type RuleMatch } from './policy-schema.js';

type MatchInput = z.input<typeof RuleMatch>;

/** The `signer run` approval flags, as the CLI parsed them. */
export interface ApprovalFlags {
  approveAll?: boolean;
  approveDescription?: string;
  /** Matches `text` payloads as text (not EIP-191 messages: a shorthand stays as narrow as the flag was). */
  approveMessageText?: string;
  /** Matches `bytes` payloads as lower-case hex without 0x. */
  approveMessageHex?: string;
  approveKey?: readonly string[];
}

/** Document as written (before zod's transforms), e.g. for `loadNodePolicy({document})`. */
export type PolicyDocumentInput = z.input<typeof PolicyDocument>;

/**
 * The policy document the `--approve-*` shorthands stand for: one allow rule built from them, or no
 * rule at all (a node given neither a policy nor a flag approves nothing: fail closed).
 * - `--approve-all`: allow every request (of the `--approve-key` keys, if given).
 * - `--approve-description RE`: allow requests whose description matches.
 * - `--approve-message-text RE` / `--approve-message-hex RE`: allow text (resp. bytes) messages that
 *   match, as text (resp. lower-case hex); the flag fixes the encoding, never the proposal. A text
 *   pattern does not apply to bytes, nor a hex pattern to text.
 * - given together, description and message patterns must both match.
 * Throws SignerError INVALID_CONFIG on a combination that means nothing, a bad pattern or a bad key id.
 */
export function policyFromFlags(flags: ApprovalFlags): PolicyDocumentInput {
  const { approveAll, approveDescription: description, approveMessageText: text, approveMessageHex: hex } = flags;
  if (text !== undefined && hex !== undefined) {
    throw new SignerError('INVALID_CONFIG', '--approve-message-text and --approve-message-hex cannot be combined: give one message rule');
  }
  if (approveAll && (description !== undefined || text !== undefined || hex !== undefined)) {
    throw new SignerError('INVALID_CONFIG', '--approve-all cannot be combined with --approve-description, --approve-message-text or --approve-message-hex');
  }
  for (const [flag, source] of [
    ['--approve-description', description],
    ['--approve-message-text', text],
    ['--approve-message-hex', hex],
  ] as const) {
    if (source === undefined) continue;
    try {
      new RegExp(source);
    } catch (e) {
      throw new SignerError('INVALID_CONFIG', `${flag}: invalid regular expression: ${(e as Error).message}`);
    }
  }
  const keyIds = approvedKeys(flags.approveKey);
  const scope: MatchInput = keyIds ? { keyIds } : {};
  if (approveAll) {
    return { version: POLICY_DOCUMENT_VERSION, rules: [{ id: 'approve-all', outcome: 'allow', description: 'signer run --approve-all', match: scope }] };
  }
  if (description === undefined && text === undefined && hex === undefined) return { version: POLICY_DOCUMENT_VERSION, rules: [] };
  const match: MatchInput = {
    ...scope,
    ...(text !== undefined ? { kinds: ['text'], message: { text } } : {}),
    ...(hex !== undefined ? { kinds: ['bytes'], message: { hex } } : {}),
    ...(description !== undefined ? { description } : {}),
  };
  const used = [description !== undefined && '--approve-description', text !== undefined && '--approve-message-text', hex !== undefined && '--approve-message-hex'];
  return {
    version: POLICY_DOCUMENT_VERSION,
    rules: [{ id: 'approve-flags', outcome: 'allow', description: `signer run ${used.filter(Boolean).join(' ')}`, match }],
  };
}

/** The --approve-key ids in canonical (lower-case) form, without duplicates; undefined when none is given. */
function approvedKeys(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const ids = values.map((value) => {
    const parsed = Uuid.safeParse(value);
    if (!parsed.success) throw new SignerError('INVALID_CONFIG', `--approve-key ${JSON.stringify(value)} is not a key id (a UUID)`);
    return parsed.data;
  });
  return [...new Set(ids)];
}

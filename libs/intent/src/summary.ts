import type { Intent, Payload } from '#protocol';
import { digestHex } from './intent.js';
import { eip712Hashes } from './typed-data.js';

/** A line an operator reads: a label and its value, as text. */
export interface SummaryField {
  label: string;
  value: string;
}

/** What an operator sees of an intent: a headline, decoded fields, and the raw hashes to compare. */
export interface IntentSummary {
  headline: string;
  /** True when the payload is a prehashed digest: nothing of its content can be shown. */
  blind: boolean;
  fields: SummaryField[];
  hashes: { intentHash: string; digest: string; domainSeparator?: string; structHash?: string };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function textOf(hex: string): string | null {
  try {
    return strictUtf8.decode(Buffer.from(hex, 'hex'));
  } catch {
    return null;
  }
}

function payloadFields(p: Payload): { headline: string; fields: SummaryField[] } {
  switch (p.kind) {
    case 'text':
      return { headline: `text message (${Buffer.byteLength(p.text)} bytes)`, fields: [{ label: 'text', value: p.text }] };
    case 'bytes': {
      const text = textOf(p.hex);
      return {
        headline: `raw bytes (${p.hex.length / 2} bytes)`,
        fields: [{ label: 'hex', value: p.hex }, ...(text !== null ? [{ label: 'as UTF-8', value: text }] : [])],
      };
    }
    case 'eip191': {
      const m = p.message;
      return typeof m === 'string'
        ? { headline: 'EIP-191 personal message', fields: [{ label: 'message', value: m }] }
        : { headline: `EIP-191 personal message (${(m.hex.length - 2) / 2} raw bytes)`, fields: [{ label: 'message hex', value: m.hex }] };
    }
    case 'eip712': {
      const { domain, primaryType, message } = p.typedData;
      const fields: SummaryField[] = [{ label: 'primary type', value: primaryType }];
      for (const k of ['name', 'version', 'chainId', 'verifyingContract', 'salt'] as const) {
        if (domain[k] !== undefined) fields.push({ label: `domain.${k}`, value: String(domain[k]) });
      }
      for (const [path, value] of flatten(message, '')) fields.push({ label: `message.${path}`, value });
      const name = domain.name ? ` for ${domain.name}` : '';
      const at = domain.verifyingContract ? ` at ${domain.verifyingContract}` : '';
      return { headline: `EIP-712 ${primaryType}${name}${at}`, fields };
    }
    case 'digest':
      return {
        headline: `BLIND prehashed ${p.hash} digest: the content signed cannot be shown`,
        fields: [{ label: 'hash', value: p.hash }, { label: 'digest', value: p.hex }],
      };
  }
}

function* flatten(value: unknown, prefix: string): Generator<[string, string]> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    for (const [k, v] of entries) yield* flatten(v, prefix ? `${prefix}.${k}` : k);
  } else {
    yield [prefix, String(value)];
  }
}

/** The human summary and the raw hashes of an intent whose hash is `intentHashHex`. */
export function summarizeIntent(intent: Intent, intentHashHex: string): IntentSummary {
  const { headline, fields } = payloadFields(intent.payload);
  const context: SummaryField[] = [{ label: 'key', value: intent.keyId }];
  if (intent.chainId !== null) context.push({ label: 'chain id', value: String(intent.chainId) });
  if (intent.sequence !== null) context.push({ label: 'sequence', value: String(intent.sequence) });
  context.push({ label: 'deadline', value: new Date(intent.deadline).toISOString() });
  context.push({ label: 'proposer', value: intent.proposer });
  if (intent.description) context.push({ label: 'description', value: intent.description });
  if (intent.note) context.push({ label: 'note', value: intent.note });
  const hashes: IntentSummary['hashes'] = { intentHash: intentHashHex, digest: digestHex(intent.payload) };
  if (intent.payload.kind === 'eip712') {
    const h = eip712Hashes(intent.payload.typedData);
    hashes.domainSeparator = h.domainSeparator.slice(2);
    hashes.structHash = h.structHash.slice(2);
  }
  return { headline, blind: intent.payload.kind === 'digest', fields: [...fields, ...context], hashes };
}

/** One line for lists and logs: the headline, the chain and the description. */
export function summaryLine(intent: Intent): string {
  const { headline } = payloadFields(intent.payload);
  const chain = intent.chainId !== null ? ` on chain ${intent.chainId}` : '';
  return `${headline}${chain}${intent.description ? `: ${intent.description}` : ''}`;
}

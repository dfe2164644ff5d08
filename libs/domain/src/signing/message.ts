import { utf8 } from '#crypto';
import { MAX_MESSAGE_BYTES } from '#protocol';
import { DomainError } from '../errors.js';

/** The exact bytes to sign, hex, from the request's message and encoding. */
export function encodeMessage(message: string, encoding: 'hex' | 'utf8'): string {
  let hex: string;
  if (encoding === 'hex') {
    const clean = message.startsWith('0x') ? message.slice(2) : message;
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new DomainError('VALIDATION_FAILED', 'message is not hex of whole bytes');
    hex = clean.toLowerCase();
  } else {
    hex = Buffer.from(utf8(message)).toString('hex');
  }
  if (hex.length === 0) throw new DomainError('VALIDATION_FAILED', 'message is empty');
  if (hex.length / 2 > MAX_MESSAGE_BYTES) throw new DomainError('VALIDATION_FAILED', `message exceeds ${MAX_MESSAGE_BYTES} bytes`);
  return hex;
}

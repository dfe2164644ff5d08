import { z } from 'zod';

/**
 * The building blocks every schema of the wire protocol and of the REST API is made of, defined once.
 * Whatever enters the system passes through them, so their rules hold everywhere:
 * - ids are canonical: a UUID in any letter case is read as its lower-case spelling, so that one request
 *   has one id whatever spelling a client used (locks, long-polls and lookups key on it);
 * - text is storable: no NUL character and no lone UTF-16 surrogate (PostgreSQL refuses both in text
 *   and jsonb, and a lone surrogate has no UTF-8 encoding), refused with a message saying so.
 */

/** A UUID, canonicalized to lower case. */
export const Uuid = z.uuid().transform((s) => s.toLowerCase());

// eslint-disable-next-line no-control-regex -- finding the NUL character is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` holds a NUL character or a lone surrogate (which no database column can store). */
export const hasUnstorableCharacter = (s: string): boolean => UNSTORABLE.test(s);

/** Text of at most `max` UTF-16 units with no NUL character and no lone surrogate. */
export const Text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !hasUnstorableCharacter(s), 'must not contain a NUL character or a lone UTF-16 surrogate');

/** Lower-case hex of exactly `bytes` bytes. */
export const hexBytes = (bytes: number) =>
  z
    .string()
    .length(bytes * 2)
    .regex(/^[0-9a-f]*$/, 'lower-case hex');

/** Lower-case hex of whole bytes, at most `maxBytes` of them. */
export const hexUpTo = (maxBytes: number) =>
  z
    .string()
    .max(maxBytes * 2)
    .regex(/^(?:[0-9a-f]{2})*$/, 'lower-case hex of whole bytes');

/** Lower-case hex of `minBytes` to `maxBytes` bytes. */
export const hexRange = (minBytes: number, maxBytes: number) =>
  z.string().regex(new RegExp(`^(?:[0-9a-f]{2}){${minBytes},${maxBytes}}$`), `hex of ${minBytes}..${maxBytes} bytes`);

/** A FROST participant identifier: noble's serialized scalar (32 bytes, 57 for ed448). */
export const Identifier = z.string().regex(/^[0-9a-f]{64}(?:[0-9a-f]{50})?$/, 'serialized identifier (hex)');
/** A serialized group element (compressed point): 32..57 bytes, depending on the suite. */
export const Element = z.string().regex(/^(?:[0-9a-f]{2}){32,57}$/, 'serialized group element (hex)');
/** A serialized scalar: 32 bytes (57 for ed448). */
export const Scalar = z.string().regex(/^(?:[0-9a-f]{64}|[0-9a-f]{114})$/, 'serialized scalar (hex)');
/** Milliseconds since the epoch. */
export const EpochMs = z.number().int().nonnegative();

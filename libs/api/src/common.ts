import { z } from 'zod';
import { Uuid } from '#protocol';

/** An id in a path or a query: a UUID in any letter case, read as its lower-case spelling. */
export const IdParam = Uuid;

/** A time as the API writes it: ISO-8601 in UTC (`Date.prototype.toISOString`). */
export const Timestamp = z.iso.datetime();

/** A time as a client may write it: ISO-8601 with `Z` or an offset. */
export const TimestampInput = z.iso.datetime({ offset: true });

/** `limit` and `offset` of a list endpoint (query strings: numbers arrive as text). */
export const pageQuery = (maxLimit: number, defaultLimit: number) => ({
  limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * Every error the API answers with (any status >= 400). `code` is one of the protocol's ErrorCodes; it is
 * read as a plain string so that a client older than the coordinator still shows a code it does not know.
 */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

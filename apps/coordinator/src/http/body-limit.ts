import type { NextFunction, Request, Response } from 'express';
import { noteErrorCode } from '../logging/http-logging.js';

/** Largest REST request body, in bytes (body-parser's `256kb`). */
export const MAX_BODY_BYTES = 256 * 1024;

export const BODY_TOO_LARGE = { code: 'PAYLOAD_TOO_LARGE', message: `the request body exceeds ${MAX_BODY_BYTES / 1024} kB` } as const;

/**
 * Refuses a body by its announced Content-Length before reading a byte of it: 413 at once, and the
 * connection is closed (its unread body is not drained). body-parser would answer only after reading
 * (and discarding) the whole announced body.
 */
export function refuseLargeBodies(limit: number = MAX_BODY_BYTES) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers['content-length'];
    if (header !== undefined && /^\d+$/.test(header) && Number(header) > limit) {
      noteErrorCode(res, BODY_TOO_LARGE.code);
      res.setHeader('Connection', 'close');
      res.status(413).json({ error: BODY_TOO_LARGE });
      return;
    }
    next();
  };
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

/** Incoming ids we take over as they are; anything else (too long, spaces, control characters) is replaced. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: a valid incoming `X-Request-Id`, else a fresh UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && VALID_REQUEST_ID.test(value) ? value : randomUUID();
}

/** The error code an answer carried, for its request log line (set by the exception filter). */
const errorCodes = new WeakMap<ServerResponse, string>();
export const noteErrorCode = (res: ServerResponse, code: string): void => void errorCodes.set(res, code);
export const errorCodeOf = (res: ServerResponse): string | undefined => errorCodes.get(res);

const line = (req: IncomingMessage, res: ServerResponse): string => `${req.method ?? ''} ${req.url ?? ''} ${res.statusCode}`;

/**
 * pino-http: one line per HTTP request when its answer is sent, with its request id (also returned in
 * the `X-Request-Id` header). 4xx answers are warnings, 5xx errors; neither carries a stack (a fault of
 * our own is logged with its stack by the exception filter). Headers are not logged (the bearer token).
 */
export function httpLogger(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req, res) => {
      const id = requestIdOf(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: line,
    customErrorMessage: line,
    // pino-http invents an Error (with a stack of its own code) for every 5xx: leave it out.
    customErrorObject: (_req, _res, _err, value: Record<string, unknown>) => ({ res: value.res, responseTime: value.responseTime }),
    customProps: (_req, res) => {
      const code = errorCodes.get(res);
      return code ? { errorCode: code } : {};
    },
    serializers: {
      req: (req: { method?: string; url?: string; remoteAddress?: string }) => ({ method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger as PinoLogger } from 'pino';
import { DomainError } from '#domain';
import type { ErrorCode } from '#protocol';
import { BODY_TOO_LARGE } from '../http/body-limit.js';
import { noteErrorCode } from '../logging/http-logging.js';
import { isDatabaseUnavailable } from './database-errors.js';
import { httpStatusOf } from './error-mapping.js';

type ErrorBody = { code: ErrorCode; message: string; details?: unknown };

/**
 * Answers for HttpExceptions, which come from Nest's router (unknown route) and from body-parser via
 * Express (bad JSON, too large, bad charset): fixed messages, so that no parser or framework text (which
 * may quote the body or name internals) reaches a client.
 */
function httpExceptionBody(exception: HttpException): { status: number; error: ErrorBody } {
  const status = exception.getStatus();
  const type = (exception.cause as { type?: unknown } | undefined)?.type;
  if (status === 404) return { status, error: { code: 'NOT_FOUND', message: 'no such route' } };
  if (status === 413) return { status, error: BODY_TOO_LARGE };
  if (status === 400 && (type === 'entity.parse.failed' || exception.cause instanceof SyntaxError)) {
    return { status, error: { code: 'VALIDATION_FAILED', message: 'the request body is not valid JSON' } };
  }
  if (status === 415) return { status, error: { code: 'VALIDATION_FAILED', message: 'unsupported content encoding or charset' } };
  if (status === 400 && exception.cause instanceof URIError) return { status, error: { code: 'VALIDATION_FAILED', message: 'the request path is not valid' } };
  if (status < 500) return { status, error: { code: 'VALIDATION_FAILED', message: 'the request could not be read' } };
  return { status: 500, error: { code: 'INTERNAL', message: 'internal error' } };
}

/**
 * Terminus's verdict with every indicator reduced to its status: the same shape (libs/api's
 * HealthResponse), without the messages, which may carry the driver's text.
 */
function healthDetails(exception: HttpException): Record<string, unknown> {
  const body = exception.getResponse() as { status?: unknown; info?: unknown; error?: unknown; details?: unknown } | undefined;
  const statuses = (indicators: unknown): Record<string, { status: string }> =>
    Object.fromEntries(
      Object.entries(typeof indicators === 'object' && indicators !== null ? indicators : {}).map(([name, v]) => {
        const status = (v as { status?: unknown } | undefined)?.status;
        return [name, { status: status === 'up' ? 'up' : 'down' }];
      }),
    );
  return {
    status: body?.status === 'shutting_down' ? 'shutting_down' : 'error',
    info: statuses(body?.info),
    error: statuses(body?.error),
    details: statuses(body?.details),
  };
}

/**
 * One error body for the whole REST API: `{ error: { code, message, details? } }`. What a client caused
 * (4xx) is logged by the request's log line (a warning with its error code); only a fault of our own is
 * logged here, as an error with its stack, and answered `INTERNAL` without its message.
 */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request & { log?: PinoLogger }>();
    const send = (status: number, error: ErrorBody) => {
      noteErrorCode(res, error.code);
      res.status(status).json({ error });
    };
    if (exception instanceof DomainError) {
      const details = Object.keys(exception.details).length > 0 ? { details: exception.details } : {};
      send(httpStatusOf(exception.code), { code: exception.code, message: exception.message, ...details });
      return;
    }
    if (exception instanceof HttpException && exception.getStatus() === 503) {
      // The health check's verdict (the cause was logged by the health controller).
      send(503, { code: 'DATABASE_UNAVAILABLE', message: 'a dependency is down', details: healthDetails(exception) });
      return;
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      const { status, error } = httpExceptionBody(exception);
      send(status, error);
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      send(503, { code: 'DATABASE_UNAVAILABLE', message: 'the database is unavailable' });
      return;
    }
    const stack = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
    if (req.log) req.log.error({ err: exception instanceof Error ? exception : { message: stack } }, `unhandled error in ${req.method} ${req.url}`);
    else this.logger.error(`unhandled error in ${req.method} ${req.url}`, stack);
    send(500, { code: 'INTERNAL', message: 'internal error' });
  }
}

import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '#domain';
import { isDatabaseUnavailable } from './database-errors.js';
import { httpStatusOf } from './error-mapping.js';

/** One error body for the whole REST API: `{ error: { code, message, details? } }`. */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof DomainError) {
      const details = Object.keys(exception.details).length > 0 ? { details: exception.details } : {};
      res.status(httpStatusOf(exception.code)).json({ error: { code: exception.code, message: exception.message, ...details } });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 503) {
        // The health check's verdict: keep Terminus's per-indicator body as the details.
        res.status(503).json({ error: { code: 'DATABASE_UNAVAILABLE', message: 'a dependency is down', details: exception.getResponse() } });
        return;
      }
      const code = status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'VALIDATION_FAILED' : 'INTERNAL';
      res.status(status).json({ error: { code, message: exception.message } });
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      res.status(503).json({ error: { code: 'DATABASE_UNAVAILABLE', message: 'the database is unavailable' } });
      return;
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
  }
}

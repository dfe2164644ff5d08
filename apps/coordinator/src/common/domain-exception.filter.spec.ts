import { BadRequestException, HttpException, InternalServerErrorException, type ArgumentsHost } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '#domain';
import { DomainExceptionFilter } from './domain-exception.filter.js';

/** Runs the filter on `exception`; returns what it answered and what it logged through the request's logger. */
function answer(exception: unknown) {
  const sent: { status?: number; body?: unknown } = {};
  const res = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  const log = { error: vi.fn(), warn: vi.fn() };
  const req = { method: 'POST', url: '/v1/things', log };
  const host = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }) } as unknown as ArgumentsHost;
  new DomainExceptionFilter().catch(exception, host);
  return { ...sent, log };
}

describe('DomainExceptionFilter: no internal message reaches a client', () => {
  it('answers a fault of our own INTERNAL with a fixed message, and logs it as an error with its stack', () => {
    const fault = new TypeError("Cannot read properties of undefined (reading 'rows') at select * from secrets");
    const { status, body, log } = answer(fault);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error.mock.calls[0]![0]).toMatchObject({ err: fault });
  });

  it('answers a 5xx HttpException INTERNAL without its message', () => {
    const { status, body } = answer(new InternalServerErrorException('pool exhausted: postgres://u:p@db/x'));
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it("maps body-parser's errors to fixed messages", () => {
    const parse = new SyntaxError('Unexpected token s in JSON at position 3: "secret"');
    expect(answer(new BadRequestException(parse.message, { cause: parse })).body).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'the request body is not valid JSON' },
    });
    expect(answer(new HttpException('request entity too large', 413)).body).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body exceeds 256 kB' },
    });
    expect(answer(new HttpException('Cannot GET /v1/secret-admin-route', 404)).body).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  });

  it('keeps domain errors as they are, and logs nothing for them (the request line does)', () => {
    const { status, body, log } = answer(new DomainError('KEY_NOT_FOUND', 'no key 42', { keyId: '42' }));
    expect(status).toBe(404);
    expect(body).toEqual({ error: { code: 'KEY_NOT_FOUND', message: 'no key 42', details: { keyId: '42' } } });
    expect(log.error).not.toHaveBeenCalled();
  });
});

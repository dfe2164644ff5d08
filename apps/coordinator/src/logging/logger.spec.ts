import { describe, expect, it } from 'vitest';
import { createLogger, NestPinoLogger, textLine, type LogLevelSetting } from './logger.js';

function capture(level: LogLevelSetting, format: 'json' | 'text' = 'json', isTTY = false) {
  const lines: string[] = [];
  const logger = createLogger({ level, format, output: { isTTY, write: (t: string) => lines.push(t) } });
  return { logger, nest: new NestPinoLogger(logger), lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('coordinator logger', () => {
  it("keeps LOG_LEVEL's values: each lets through its level and the more severe ones", () => {
    const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
    for (const [i, level] of order.entries()) {
      const { nest, lines } = capture(level);
      nest.error('e', 'Ctx');
      nest.warn('w', 'Ctx');
      nest.log('l', 'Ctx');
      nest.debug('d', 'Ctx');
      nest.verbose('v', 'Ctx');
      expect(lines, level).toHaveLength(i + 1);
    }
    const silent = capture('silent');
    silent.nest.error('e', 'Ctx');
    expect(silent.lines).toHaveLength(0);
  });

  it("turns Nest's (message, stack, context) and (message, context) calls into fields", () => {
    const { nest, entries } = capture('verbose');
    const stack = 'Error: boom\n    at thing (/app/x.js:1:2)';
    nest.error('boom', stack, 'SomeService');
    nest.log('Mapped {/v1/nodes, GET} route', 'RouterExplorer');
    nest.warn({ code: 'X' }, 'Ctx');
    nest.error(new Error('as an object'), 'WsAdapter');
    const [e, l, w, o] = entries();
    expect(e).toMatchObject({ level: 'error', context: 'SomeService', msg: 'boom', err: { stack } });
    expect(l).toMatchObject({ level: 'info', context: 'RouterExplorer', msg: 'Mapped {/v1/nodes, GET} route' });
    expect(l).not.toHaveProperty('err');
    expect(w).toMatchObject({ level: 'warn', context: 'Ctx', code: 'X' });
    expect(o).toMatchObject({ level: 'error', context: 'WsAdapter', msg: 'as an object', err: { message: 'as an object' } });
  });

  it("logs Nest's ExceptionHandler (a failed boot, which main reports in one line) at debug only", () => {
    const quiet = capture('log');
    quiet.nest.error('migration failed', 'Error: x\n    at y (z.js:1:1)', 'ExceptionHandler');
    expect(quiet.lines).toHaveLength(0);
    const verbose = capture('debug');
    verbose.nest.error('migration failed', 'Error: x\n    at y (z.js:1:1)', 'ExceptionHandler');
    expect(verbose.entries()[0]).toMatchObject({ level: 'debug', context: 'ExceptionHandler' });
  });

  it('renders text lines without colour unless the output is a terminal', () => {
    const plain = capture('log', 'text', false);
    plain.nest.warn('careful', 'Ctx');
    expect(plain.lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z WARN {2}\[Ctx\] careful\n$/);
    // eslint-disable-next-line no-control-regex
    expect(plain.lines[0]).not.toMatch(/\x1b/);
    const line = JSON.stringify({ time: 't', level: 'error', msg: 'm', context: 'C', reqId: 'r1', err: { message: 'x', stack: 'Error: x\n    at y' } });
    expect(textLine(line, false)).toBe('t ERROR [C] m reqId=r1\nError: x\n    at y\n');
    expect(textLine(line, true)).toContain('\x1b[31mERROR\x1b[0m');
  });
});

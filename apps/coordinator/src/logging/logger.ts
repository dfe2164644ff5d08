import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import type { CoordinatorConfig } from '../config/coordinator-config.js';

/**
 * The coordinator's logs: pino, one entry per line, for Nest's own lines too (NestPinoLogger). JSON under
 * `LOG_FORMAT=json`; under `text`, the same entries rendered as one readable line each, coloured only when
 * the output is a terminal (and NO_COLOR is unset). Everything goes to stdout.
 */

export type LogLevelSetting = CoordinatorConfig['logLevel'];
export type LogFormat = CoordinatorConfig['logFormat'];

/** LOG_LEVEL's values (Nest's names, kept for compatibility) to pino's levels. */
export const PINO_LEVEL: Record<LogLevelSetting, LevelWithSilent> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
  silent: 'silent',
};

/** Where log lines go: stdout by default; tests pass their own. */
export interface LogOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface LoggerOptions {
  level: LogLevelSetting;
  format: LogFormat;
  output?: LogOutput;
}

export function createLogger(options: LoggerOptions): Logger {
  const output = options.output ?? process.stdout;
  const destination: DestinationStream =
    options.format === 'json'
      ? { write: (line: string) => void output.write(line) }
      : { write: (line: string) => void output.write(textLine(line, output.isTTY === true && !process.env.NO_COLOR)) };
  return pino(
    {
      level: PINO_LEVEL[options.level],
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      base: undefined,
    },
    destination,
  );
}

/** A field as text: strings as they are, anything else as JSON. */
const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));

const COLOURS: Record<string, string> = { fatal: '35', error: '31', warn: '33', info: '32', debug: '36', trace: '90' };

/** Renders one JSON log line as `time LEVEL [context] message key=value…`, plus the stack of an error. */
export function textLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, context, err, ...rest } = entry;
  const label = text(level) || 'info';
  const shownLevel = label.toUpperCase().padEnd(5);
  const head = [
    text(time),
    colour ? `\x1b[${COLOURS[label] ?? '0'}m${shownLevel}\x1b[0m` : shownLevel,
    ...(context ? [`[${text(context)}]`] : []),
    text(msg),
  ].join(' ');
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${text(v)}`);
  const error = err as { stack?: unknown; message?: unknown } | undefined;
  const stack = typeof error?.stack === 'string' ? `\n${error.stack}` : error?.message !== undefined ? ` err=${text(error.message)}` : '';
  return `${[head, ...fields].join(' ')}${stack}\n`;
}

/** A stack trace as Nest passes it to `error(message, stack, context)`. */
const STACK = /^.*\n\s+at .+/s;

/**
 * Nest's LoggerService over pino, so that Nest's own lines (bootstrap, routes, its exception handler) and
 * every `new Logger(context)` in the app come out as pino entries with a `context` field.
 */
export class NestPinoLogger implements LoggerService {
  constructor(readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(wanted: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    // Nest appends the logger's context last; `error` may carry a stack before it.
    const last = rest[rest.length - 1];
    const context = typeof last === 'string' && !(rest.length === 1 && STACK.test(last)) ? (rest.pop() as string) : undefined;
    // Nest's ExceptionHandler logs a failed boot before rethrowing it; main reports it in one line.
    const level: Level = context === 'ExceptionHandler' ? 'debug' : wanted;
    if (!this.pino.isLevelEnabled(level)) return;
    const stack = typeof rest[0] === 'string' && STACK.test(rest[0]) ? (rest.shift() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    let text: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
      text = message.message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
    } else {
      text = String(message);
    }
    if (stack) fields.err = { message: text, stack };
    if (rest.length > 0) fields.params = rest;
    this.pino[level](fields, text);
  }
}

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { roundtableVersion } from '#package-info';
import { BootError } from './boot/boot-error.js';
import { startCoordinator } from './bootstrap.js';
import { ConfigError, helpText, loadConfig } from './config/coordinator-config.js';
import { createLogger, type LogFormat } from './logging/logger.js';

/** The package version (the `roundtable` package.json above this file: the repository's, or the image's /app). */
const version = (): string => roundtableVersion(dirname(fileURLToPath(import.meta.url)), 'unknown');

/** LOG_FORMAT as given, for the lines written before (or instead of) a valid config. */
const rawFormat = (): LogFormat => (process.env.LOG_FORMAT === 'json' ? 'json' : 'text');

/** One line for an operator, whatever LOG_LEVEL says, then exit. */
function die(code: number, message: string, format: LogFormat = rawFormat()): never {
  createLogger({ level: 'error', format }).fatal({ context: 'Main' }, message);
  process.exit(code);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${helpText(version())}\n`);
    return;
  }
  if (args.includes('--version') || args.includes('-v')) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (args.length > 0) die(2, `roundtable coordinator: unknown argument ${JSON.stringify(args[0])} (see --help)`);

  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) die(2, `roundtable coordinator: ${e.message}`);
    throw e;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  let coordinator;
  try {
    coordinator = await startCoordinator(config, { logger });
  } catch (e) {
    if (e instanceof BootError) die(1, `roundtable coordinator failed to start: ${e.message}`, config.logFormat);
    const message = e instanceof Error ? e.message : String(e);
    die(1, `roundtable coordinator failed to start: ${message.split('\n')[0]!}`, config.logFormat);
  }
  const log = logger.child({ context: 'Main' });
  log.info(`roundtable coordinator ${version()} listening on ${coordinator.httpUrl} (nodes: ${coordinator.wsUrl})`);
  // Close cleanly (nodes told, timers stopped, database closed), then exit 0.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}, shutting down`);
    coordinator
      .close()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  die(1, `roundtable coordinator failed: ${e instanceof Error ? e.message : String(e)}`);
});

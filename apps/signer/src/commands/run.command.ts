import { Command, Option } from 'commander';
import {
  SignerError,
  SignerNode,
  compilePattern,
  type ReconnectOptions,
  type SignerLogger,
  type SigningPolicy,
} from '#signer';
import { ExitCode, processIo, reportError, type CliIo } from '../cli-io.js';
import { LOG_LEVELS, createLogger, type LogLevel } from '../logger.js';
import { keystorePassphrase, passphraseFileOption } from '../passphrase-options.js';

export interface RunCommandOptions {
  keystore: string;
  coordinator: string;
  coordinatorId?: string;
  approveAll?: boolean;
  approveDescription?: string;
  approveMessage?: string;
  logLevel?: LogLevel;
  passphraseFile?: string;
  /** Refuse every key generation ceremony (abort PARAMETERS_REFUSED). */
  refuseCeremonies?: boolean;
}

export interface RunContext {
  io?: CliIo;
  logger?: SignerLogger;
  /** Aborting it stops the node cleanly (the CLI wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
  reconnect?: ReconnectOptions;
}

/** The signing policy the run options describe. Patterns match anywhere unless anchored with ^ and $. */
export function policyFromOptions(options: RunCommandOptions): SigningPolicy {
  if (options.approveAll) {
    if (options.approveDescription !== undefined || options.approveMessage !== undefined) {
      throw new SignerError('INVALID_CONFIG', '--approve-all cannot be combined with --approve-description or --approve-message');
    }
    return { kind: 'approve-all' };
  }
  const compile = (flag: string, source: string | undefined): RegExp | undefined => {
    if (source === undefined) return undefined;
    try {
      return compilePattern(source);
    } catch (e) {
      throw new SignerError('INVALID_CONFIG', `${flag}: invalid regular expression: ${(e as Error).message}`);
    }
  };
  const description = compile('--approve-description', options.approveDescription);
  const message = compile('--approve-message', options.approveMessage);
  return { kind: 'match', ...(description ? { description } : {}), ...(message ? { message } : {}) };
}

/**
 * Runs a signer node until `signal` aborts (exit 0) or the node fails for good. Resolves with the
 * process exit code; see ExitCode.
 */
export async function runSignerNode(options: RunCommandOptions, context: RunContext = {}): Promise<number> {
  const io = context.io ?? processIo;
  const logger = context.logger ?? createLogger(options.logLevel ?? 'info', 'signer');
  let node: SignerNode;
  try {
    const policy = policyFromOptions(options);
    node = new SignerNode({
      keystoreDir: options.keystore,
      passphrase: await keystorePassphrase(options.passphraseFile),
      coordinatorUrl: options.coordinator,
      ...(options.coordinatorId !== undefined ? { coordinatorId: options.coordinatorId } : {}),
      policy,
      acceptCeremonies: !options.refuseCeremonies,
      logger,
      ...(context.reconnect ? { reconnect: context.reconnect } : {}),
    });
    if (policy.kind === 'match' && !policy.description && !policy.message) {
      logger.warn({}, 'no --approve-* option given: this node will decline every request');
    }
  } catch (e) {
    return reportError(io, e);
  }

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      context.signal?.removeEventListener('abort', onAbort);
      resolve(code);
    };
    const onAbort = () => {
      logger.info({}, 'stopping');
      node.stop().then(
        () => finish(ExitCode.OK),
        (e: unknown) => finish(reportError(io, e)),
      );
    };
    node.on('fatal', (error) => {
      // start() rejects with the same error while it is pending; report it once.
      void node.stop().then(() => finish(reportError(io, error)));
    });
    if (context.signal?.aborted) {
      onAbort();
      return;
    }
    context.signal?.addEventListener('abort', onAbort, { once: true });
    node.start().then(
      () => logger.info({ nodeId: node.nodeId }, 'signer node running'),
      (e: unknown) => {
        if (e instanceof SignerError && (e.code === 'STOPPED' || isFatalRefusal(e))) return;
        void node.stop().then(() => finish(reportError(io, e)));
      },
    );
  });
}

const isFatalRefusal = (e: SignerError): boolean =>
  ['NODE_UNKNOWN', 'NODE_REVOKED', 'AUTH_FAILED', 'COORDINATOR_MISMATCH', 'REPLACED'].includes(e.code);

export function runCommand(): Command {
  return new Command('run')
    .description('run the signer node: connect to the coordinator and sign what the policy approves')
    .requiredOption('--keystore <dir>', 'keystore directory')
    .requiredOption('--coordinator <ws-url>', 'coordinator WebSocket URL, e.g. ws://localhost:3000/v1/nodes/ws')
    .addOption(passphraseFileOption())
    .option('--coordinator-id <id>', 'refuse to authenticate to a coordinator with another id')
    .addOption(
      new Option('--approve-all', 'sign every request the coordinator proposes').conflicts([
        'approveDescription',
        'approveMessage',
      ]),
    )
    .option('--approve-description <regex>', 'sign requests whose description matches (anchor with ^...$ for the whole text)')
    .option('--approve-message <regex>', 'sign requests whose message (utf8 text, else hex) matches (anchor with ^...$)')
    .option('--refuse-ceremonies', 'refuse to take part in key generation ceremonies (by default the node takes part)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .action(async (options: RunCommandOptions) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        process.exitCode = await runSignerNode(options, { signal: controller.signal });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}

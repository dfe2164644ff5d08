import { Command, Option } from 'commander';
import { Uuid } from '#protocol';
import {
  SignerError,
  SignerNode,
  compilePattern,
  type MessageRule,
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
  /** Match the message as UTF-8 text (the proposal must declare it utf8). */
  approveMessageText?: string;
  /** Match the message's lower-case hex (the proposal must declare it hex). */
  approveMessageHex?: string;
  /** Replaced by approveMessageText / approveMessageHex: refused with a message saying so. */
  approveMessage?: string;
  /** Limits every approval rule, --approve-all included, to these keys. */
  approveKey?: string[];
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

/**
 * The signing policy the run options describe. Patterns match anywhere unless anchored with ^ and $.
 * The operator's flag says how the message is matched (text or hex), never the coordinator's proposal.
 */
export function policyFromOptions(options: RunCommandOptions): SigningPolicy {
  if (options.approveMessage !== undefined) {
    throw new SignerError(
      'INVALID_CONFIG',
      '--approve-message is no longer accepted: use --approve-message-text <regex> to match the message as UTF-8 text, ' +
        'or --approve-message-hex <regex> to match its hex (a proposal declaring the other encoding is declined)',
    );
  }
  if (options.approveMessageText !== undefined && options.approveMessageHex !== undefined) {
    throw new SignerError('INVALID_CONFIG', '--approve-message-text and --approve-message-hex cannot be combined: give one message rule');
  }
  const keyIds = approvedKeys(options.approveKey);
  const limit = keyIds ? { keyIds } : {};
  if (options.approveAll) {
    if (options.approveDescription !== undefined || options.approveMessageText !== undefined || options.approveMessageHex !== undefined) {
      throw new SignerError(
        'INVALID_CONFIG',
        '--approve-all cannot be combined with --approve-description, --approve-message-text or --approve-message-hex',
      );
    }
    return { kind: 'approve-all', ...limit };
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
  const text = compile('--approve-message-text', options.approveMessageText);
  const hex = compile('--approve-message-hex', options.approveMessageHex);
  const message: MessageRule | undefined = text ? { encoding: 'utf8', pattern: text } : hex ? { encoding: 'hex', pattern: hex } : undefined;
  return { kind: 'match', ...(description ? { description } : {}), ...(message ? { message } : {}), ...limit };
}

/** The --approve-key ids in canonical (lower-case) form, without duplicates; undefined when none is given. */
function approvedKeys(values: string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const ids = values.map((value) => {
    const parsed = Uuid.safeParse(value);
    if (!parsed.success) throw new SignerError('INVALID_CONFIG', `--approve-key ${JSON.stringify(value)} is not a key id (a UUID)`);
    return parsed.data;
  });
  return [...new Set(ids)];
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
      logger.warn(
        {},
        'no approval rule given (--approve-all, --approve-description, --approve-message-text or --approve-message-hex): this node will decline every request',
      );
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
    let fatalError: SignerError | undefined;
    node.on('fatal', (error) => {
      // start() rejects with the same error while it is pending; report it once.
      fatalError = error;
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
        if (e === fatalError || (e instanceof SignerError && (e.code === 'STOPPED' || isFatalRefusal(e)))) return;
        void node.stop().then(() => finish(reportError(io, e)));
      },
    );
  });
}

/** Errors the node reports through 'fatal' (then start() rejects with the same error: reported once). */
const isFatalRefusal = (e: SignerError): boolean =>
  ['NODE_UNKNOWN', 'NODE_REVOKED', 'AUTH_FAILED', 'COORDINATOR_MISMATCH', 'REPLACED', 'KEYSTORE_LOCK_LOST'].includes(e.code);

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
        'approveMessageText',
        'approveMessageHex',
      ]),
    )
    .option('--approve-description <regex>', 'sign requests whose description matches (anchor with ^...$ for the whole text)')
    .addOption(
      new Option(
        '--approve-message-text <regex>',
        'sign requests whose message, decoded as UTF-8 text, matches (anchor with ^...$); a proposal not declared utf8 is declined',
      ).conflicts('approveMessageHex'),
    )
    .option(
      '--approve-message-hex <regex>',
      'sign requests whose message, as lower-case hex, matches (anchor with ^...$); a proposal not declared hex is declined',
    )
    // Kept only to tell an operator which two flags replace it.
    .addOption(new Option('--approve-message <regex>').hideHelp())
    .option(
      '--approve-key <uuid>',
      'approve only requests for this key (repeatable); limits every approval rule, --approve-all included',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
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

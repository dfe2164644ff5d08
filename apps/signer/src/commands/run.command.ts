import { Command, Option } from 'commander';
import {
  Keystore,
  SignerError,
  SignerNode,
  loadNodePolicy,
  policyFromFlags,
  type ApprovalFlags,
  type LoadedNodePolicy,
  type ReconnectOptions,
  type SignerLogger,
} from '#signer';
import { ExitCode, processIo, reportError, type CliIo } from '../cli-io.js';
import { LOG_LEVELS, createLogger, type LogLevel } from '../logger.js';
import { keystorePassphrase, passphraseFileOption } from '../passphrase-options.js';

export interface RunCommandOptions {
  keystore: string;
  /** A coordinator WebSocket URL, or a comma-separated list of one coordinator's instances (failover). */
  coordinator: string;
  coordinatorId?: string;
  /** The node's policy file (YAML or JSON); without it and without --approve-* flags the node approves nothing. */
  policy?: string;
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
 * The node's policy: the `--policy` file (YAML or JSON, validated: POLICY_INVALID names the line or
 * field), or the document the `--approve-*` shorthands stand for (libs/signer `policyFromFlags`), or,
 * with neither, a policy with no rule: the node approves nothing (fail closed). Its velocity ledger
 * and evaluation log live in the keystore directory.
 */
export async function nodePolicyFromOptions(options: RunCommandOptions): Promise<LoadedNodePolicy> {
  if (options.approveMessage !== undefined) {
    throw new SignerError(
      'INVALID_CONFIG',
      '--approve-message is no longer accepted: use --approve-message-text <regex> to match a text message, ' +
        'or --approve-message-hex <regex> to match the hex of a bytes message',
    );
  }
  const flags: ApprovalFlags = {
    ...(options.approveAll ? { approveAll: true } : {}),
    ...(options.approveDescription !== undefined ? { approveDescription: options.approveDescription } : {}),
    ...(options.approveMessageText !== undefined ? { approveMessageText: options.approveMessageText } : {}),
    ...(options.approveMessageHex !== undefined ? { approveMessageHex: options.approveMessageHex } : {}),
    ...(options.approveKey !== undefined ? { approveKey: options.approveKey } : {}),
  };
  if (options.policy !== undefined && Object.keys(flags).length > 0) {
    throw new SignerError('INVALID_CONFIG', '--policy cannot be combined with the --approve-* flags: put every rule in the policy file');
  }
  const document = options.policy === undefined ? policyFromFlags(flags) : undefined;
  // The policy's ledger and log live in the keystore: it must exist (the loader would create the directory).
  await Keystore.readPublicKey(options.keystore);
  return loadNodePolicy(document === undefined ? { file: options.policy!, stateDir: options.keystore } : { document, stateDir: options.keystore });
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
    const policy = await nodePolicyFromOptions(options);
    logger.info({ policyHash: policy.policyHash }, policy.describe());
    for (const warning of policy.warnings) logger.warn({ policyHash: policy.policyHash }, warning);
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
    if (options.policy === undefined && policy.document.rules.length === 0) {
      logger.warn(
        {},
        'no policy given (--policy FILE, or --approve-all, --approve-description, --approve-message-text, --approve-message-hex): this node will decline every request',
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
    .description(
      'run the signer node: connect to the coordinator and sign what the policy approves (without --policy or --approve-*, nothing); ' +
        'proposals the policy asks about wait for `signer approvals`',
    )
    .requiredOption('--keystore <dir>', 'keystore directory')
    .requiredOption(
      '--coordinator <ws-url[,ws-url...]>',
      'coordinator WebSocket URL, e.g. ws://localhost:3000/v1/nodes/ws; or a comma-separated list of the instances of one ' +
        'coordinator (one database, one coordinator id): the node connects to the first and fails over to the next whenever a connection drops',
    )
    .addOption(passphraseFileOption())
    .option('--coordinator-id <id>', 'refuse to authenticate to a coordinator with another id')
    .addOption(
      new Option('--policy <file>', 'the node policy (YAML or JSON): rules that allow, deny or ask the operator; validated at start').conflicts([
        'approveAll',
        'approveDescription',
        'approveMessageText',
        'approveMessageHex',
        'approveKey',
      ]),
    )
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

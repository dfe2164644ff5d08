import { Command, InvalidArgumentError, Option } from 'commander';
import { SUITE_IDS, type SuiteId, type dealKey } from '#crypto';
import { runDealer, type SignerLogger } from '#signer';
import { ExitCode, printJson, processIo, reportError, type CliIo } from '../cli-io.js';
import { LOG_LEVELS, createLogger, type LogLevel } from '../logger.js';

export interface DealerCommandOptions {
  coordinator: string;
  adminToken: string;
  suite: SuiteId;
  threshold: number;
  keystore: string[];
  keyId?: string;
  /** secp256k1: deal again until the key is usable on the EVM. */
  evm?: boolean;
  logLevel?: LogLevel;
}

/**
 * Deals a key to the keystores, registers its public package; prints the coordinator's key record
 * (whose `evm` says, for a secp256k1 key, whether contracts can verify it; a warning line too if not).
 */
export async function runDealerCommand(
  options: DealerCommandOptions,
  context: { io?: CliIo; logger?: SignerLogger; /** tests only: the key generation */ deal?: typeof dealKey } = {},
): Promise<number> {
  const io = context.io ?? processIo;
  try {
    const result = await runDealer({
      coordinatorUrl: options.coordinator,
      adminToken: options.adminToken,
      suite: options.suite,
      threshold: options.threshold,
      keystores: options.keystore,
      ...(options.keyId !== undefined ? { keyId: options.keyId } : {}),
      ...(options.evm ? { evm: true } : {}),
      ...(context.deal ? { deal: context.deal } : {}),
      logger: context.logger ?? createLogger(options.logLevel ?? 'info', 'dealer'),
    });
    // Said on stderr whatever the log level: the key is registered, but no contract can verify it.
    if (result.evm && !result.evm.usable) {
      io.stderr(`warning: key ${result.keyId} is not usable on the EVM (${result.evm.reason}); it signs off-chain. Deal with --evm for one that is.`);
    }
    printJson(io, result.key);
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

const parseThreshold = (value: string): number => {
  const t = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(t)) throw new InvalidArgumentError('expected a positive integer');
  return t;
};

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function dealerCommand(): Command {
  return new Command('dealer')
    .description(
      'deal a t-of-n key to local keystores (n = number of --keystore, identifiers 1..n in order) ' +
        'and register its public package with the coordinator',
    )
    .requiredOption('--coordinator <http-url>', 'coordinator HTTP URL, e.g. http://localhost:3000')
    .addOption(
      new Option('--admin-token <token>', 'admin API token').env('ROUNDTABLE_ADMIN_TOKEN').makeOptionMandatory(),
    )
    .addOption(new Option('--suite <suite>', 'FROST ciphersuite').choices(SUITE_IDS).makeOptionMandatory())
    .requiredOption('--threshold <t>', 'signers needed to sign', parseThreshold)
    .addOption(
      new Option('--keystore <dir>', 'a participant keystore (repeat once per participant)')
        .argParser(collect)
        .makeOptionMandatory(),
    )
    .option('--key-id <uuid>', 'key id (default: a random UUID)')
    .option('--evm', 'secp256k1 only: deal again until the key is usable by EVM contracts (x below the curve order)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .action(async (options: DealerCommandOptions) => {
      process.exitCode = await runDealerCommand(options);
    });
}

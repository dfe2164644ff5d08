import { Command } from 'commander';
import { initKeystore } from '#signer';
import { ExitCode, printJson, processIo, reportError, type CliIo } from '../cli-io.js';

export interface InitCommandOptions {
  keystore: string;
  force?: boolean;
}

/** Creates the keystore and identity; prints `{publicKey, keystore}`. */
export async function runInitCommand(options: InitCommandOptions, io: CliIo = processIo): Promise<number> {
  try {
    printJson(io, await initKeystore({ keystore: options.keystore, force: options.force ?? false }));
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function initCommand(): Command {
  return new Command('init')
    .description("create a keystore and the node's identity key; prints its public key for an admin to enroll")
    .requiredOption('--keystore <dir>', 'keystore directory (created with mode 0700)')
    .option('--force', 'replace an existing identity (its enrollment is lost)', false)
    .action(async (options: InitCommandOptions) => {
      process.exitCode = await runInitCommand(options);
    });
}

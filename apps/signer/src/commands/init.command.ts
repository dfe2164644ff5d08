import { Command } from 'commander';
import { initKeystore } from '#signer';
import { ExitCode, printJson, processIo, reportError, type CliIo } from '../cli-io.js';
import { kdfCostFromEnv, keystorePassphrase, passphraseFileOption } from '../passphrase-options.js';

export interface InitCommandOptions {
  keystore: string;
  force?: boolean;
  passphraseFile?: string;
}

/** Creates the keystore and identity, encrypted under the passphrase; prints `{publicKey, keystore}`. */
export async function runInitCommand(options: InitCommandOptions, io: CliIo = processIo): Promise<number> {
  try {
    const passphrase = await keystorePassphrase(options.passphraseFile);
    printJson(io, await initKeystore({ keystore: options.keystore, passphrase, force: options.force ?? false, kdfCost: kdfCostFromEnv() }));
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function initCommand(): Command {
  return new Command('init')
    .description("create a keystore and the node's identity key; prints its public key for an admin to enroll")
    .requiredOption('--keystore <dir>', 'keystore directory (created with mode 0700)')
    .addOption(passphraseFileOption())
    .option('--force', 'replace an existing identity (its enrollment is lost; needs the current passphrase)', false)
    .action(async (options: InitCommandOptions) => {
      process.exitCode = await runInitCommand(options);
    });
}

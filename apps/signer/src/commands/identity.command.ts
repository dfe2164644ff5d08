import { Command } from 'commander';
import { readIdentity } from '#signer';
import { ExitCode, processIo, reportError, type CliIo } from '../cli-io.js';
import { keystorePassphrase, passphraseFileOption } from '../passphrase-options.js';

export interface IdentityCommandOptions {
  keystore: string;
  passphraseFile?: string;
}

/** Prints the node's identity public key (hex), alone on a line, for an admin to enroll. */
export async function runIdentityCommand(options: IdentityCommandOptions, io: CliIo = processIo): Promise<number> {
  try {
    const passphrase = await keystorePassphrase(options.passphraseFile);
    io.stdout((await readIdentity({ keystore: options.keystore, passphrase })).publicKey);
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function identityCommand(): Command {
  return new Command('identity')
    .description("print the node's identity public key")
    .requiredOption('--keystore <dir>', 'keystore directory')
    .addOption(passphraseFileOption())
    .action(async (options: IdentityCommandOptions) => {
      process.exitCode = await runIdentityCommand(options);
    });
}

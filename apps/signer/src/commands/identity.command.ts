import { Command } from 'commander';
import { readIdentity } from '#signer';
import { ExitCode, processIo, reportError, type CliIo } from '../cli-io.js';

/** Prints the node's identity public key (hex), alone on a line, for an admin to enroll. */
export async function runIdentityCommand(options: { keystore: string }, io: CliIo = processIo): Promise<number> {
  try {
    io.stdout((await readIdentity(options)).publicKey);
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function identityCommand(): Command {
  return new Command('identity')
    .description("print the node's identity public key")
    .requiredOption('--keystore <dir>', 'keystore directory')
    .action(async (options: { keystore: string }) => {
      process.exitCode = await runIdentityCommand(options);
    });
}

import { Command } from 'commander';
import { approvalsCommand } from './commands/approvals.command.js';
import { grantsCommand } from './commands/grants.command.js';
import { dealerCommand } from './commands/dealer.command.js';
import { identityCommand } from './commands/identity.command.js';
import { initCommand } from './commands/init.command.js';
import { runCommand } from './commands/run.command.js';
import { exportShareCommand, importShareCommand } from './commands/share-backup.command.js';
import { signerVersion } from './version.js';

/**
 * The `signer` command line: one subcommand per file under commands/. `--version` prints the
 * package.json version (as the admin CLI does); every command and option has help text, which
 * program.spec.ts checks for each of them.
 */
export function buildProgram(): Command {
  const program = new Command('signer')
    .description('Roundtable signer node: holds FROST key shares and signs what its policy approves')
    .version(signerVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError()
    .addCommand(initCommand())
    .addCommand(identityCommand())
    .addCommand(runCommand())
    .addCommand(approvalsCommand())
    .addCommand(grantsCommand())
    .addCommand(dealerCommand())
    .addCommand(exportShareCommand())
    .addCommand(importShareCommand());
  program.helpCommand('help [command]', 'show help for a command');
  return program;
}

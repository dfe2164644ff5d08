import { Command } from 'commander';
import { approvalsCommand } from './commands/approvals.command.js';
import { grantsCommand } from './commands/grants.command.js';
import { dealerCommand } from './commands/dealer.command.js';
import { identityCommand } from './commands/identity.command.js';
import { initCommand } from './commands/init.command.js';
import { runCommand } from './commands/run.command.js';
import { exportShareCommand, importShareCommand } from './commands/share-backup.command.js';

/** The `signer` command line: one subcommand per file under commands/. */
export function buildProgram(): Command {
  return new Command('signer')
    .description('Roundtable signer node: holds FROST key shares and signs what its policy approves')
    .showHelpAfterError()
    .addCommand(initCommand())
    .addCommand(identityCommand())
    .addCommand(runCommand())
    .addCommand(approvalsCommand())
    .addCommand(grantsCommand())
    .addCommand(dealerCommand())
    .addCommand(exportShareCommand())
    .addCommand(importShareCommand());
}

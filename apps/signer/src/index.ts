export { buildProgram } from './program.js';
export { ExitCode, exitCodeFor, processIo, type CliIo } from './cli-io.js';
export { runInitCommand, type InitCommandOptions } from './commands/init.command.js';
export { runIdentityCommand, type IdentityCommandOptions } from './commands/identity.command.js';
export { runSignerNode, nodePolicyFromOptions, type RunCommandOptions, type RunContext } from './commands/run.command.js';
export { runApprovalsCommand, type ApprovalsCommandOptions } from './commands/approvals.command.js';
export { runGrantsCommand, type GrantsCommandOptions, type GrantsRequest } from './commands/grants.command.js';
export { runDealerCommand, type DealerCommandOptions } from './commands/dealer.command.js';
export {
  runExportShareCommand,
  runImportShareCommand,
  type ExportShareCommandOptions,
  type ImportShareCommandOptions,
} from './commands/share-backup.command.js';
export { KDF_COST_ENV, PASSPHRASE_ENV, EXPORT_PASSPHRASE_ENV } from './passphrase-options.js';

import type { Command } from 'commander';

/**
 * A subcommand that talks to the running node over its approvals socket (`signer approvals ...`,
 * `signer grants ...`): every one takes the node's `--keystore` and may print the node's JSON answer.
 */
export const nodeSocketSubcommand = (parent: Command, name: string, description: string): Command =>
  parent
    .command(name)
    .description(description)
    .requiredOption('--keystore <dir>', 'keystore directory of the running node')
    .option('--json', 'print the JSON answer');

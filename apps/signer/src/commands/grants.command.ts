import { Command } from 'commander';
import { callApprovals, type ApprovalsRequest } from '#signer';
import { ExitCode, printJson, processIo, reportError, type CliIo } from '../cli-io.js';
import { nodeSocketSubcommand } from './node-socket-command.js';
import { formatGrantDetail, formatGrantList, formatRevoked } from './grants-format.js';

export interface GrantsCommandOptions {
  keystore: string;
  /** Print the node's JSON answer instead of text. */
  json?: boolean;
}

export type GrantsRequest = Extract<ApprovalsRequest, { op: 'grants.list' | 'grants.show' | 'grants.revoke' }>;

/** One operator request about grants to the node running on `--keystore`, over its approvals socket. */
export async function runGrantsCommand(options: GrantsCommandOptions, request: GrantsRequest, io: CliIo = processIo): Promise<number> {
  try {
    switch (request.op) {
      case 'grants.list': {
        const r = await callApprovals(options.keystore, request);
        if (options.json) printJson(io, r.grants);
        else io.stdout(formatGrantList(r.grants));
        break;
      }
      case 'grants.show': {
        const r = await callApprovals(options.keystore, request);
        if (options.json) printJson(io, r.grant);
        else io.stdout(formatGrantDetail(r.grant));
        break;
      }
      case 'grants.revoke': {
        const { ok: _ok, ...r } = await callApprovals(options.keystore, request);
        if (options.json) printJson(io, r);
        else io.stdout(formatRevoked(r));
        break;
      }
    }
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function grantsCommand(): Command {
  const command = new Command('grants').description(
    'the session-key grants proposed to this node: list, inspect, or revoke one on the running node (the kill switch)',
  );
  const sub = (name: string, description: string) => nodeSocketSubcommand(command, name, description);
  sub('list', 'list the grants: awaiting, approved, rejected, expired, revoked, with the requests signed under each').action(
    async (options: GrantsCommandOptions) => {
      process.exitCode = await runGrantsCommand(options, { op: 'grants.list' });
    },
  );
  sub('show', 'show one grant: its scope in plain words, grantee, validity, grant hash, decision and revocation')
    .argument('<id>', 'the grant id')
    .action(async (id: string, options: GrantsCommandOptions) => {
      process.exitCode = await runGrantsCommand(options, { op: 'grants.show', id });
    });
  sub('revoke', 'revoke a grant on this node at once (no share under it leaves any more) and tell the coordinator, signed')
    .argument('<id>', 'the grant id')
    .requiredOption('--reason <text>', 'why, for the record (signed, sent to the coordinator, kept in its audit log)')
    .action(async (id: string, options: GrantsCommandOptions & { reason: string }) => {
      process.exitCode = await runGrantsCommand(options, { op: 'grants.revoke', id, reason: options.reason });
    });
  return command;
}

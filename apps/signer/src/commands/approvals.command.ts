import { Command } from 'commander';
import { callApprovals, type ApprovalsRequest } from '#signer';
import { ExitCode, printJson, processIo, reportError, type CliIo } from '../cli-io.js';
import { nodeSocketSubcommand } from './node-socket-command.js';
import { formatDecided, formatDetail, formatList } from './approvals-format.js';

export interface ApprovalsCommandOptions {
  keystore: string;
  /** Print the node's JSON answer instead of text. */
  json?: boolean;
}

/**
 * One operator request to the node running on `--keystore`, over its approvals socket (no passphrase:
 * the socket, mode 0600 in the 0700 keystore directory, admits only the node's own user).
 */
/** The requests of `signer approvals` (the `grants.*` ones are `signer grants`'). */
export type ApprovalsCommandRequest = Extract<ApprovalsRequest, { op: 'list' | 'show' | 'approve' | 'reject' }>;

export async function runApprovalsCommand(options: ApprovalsCommandOptions, request: ApprovalsCommandRequest, io: CliIo = processIo): Promise<number> {
  try {
    switch (request.op) {
      case 'list': {
        const r = await callApprovals(options.keystore, request);
        if (options.json) printJson(io, r.approvals);
        else io.stdout(formatList(r.approvals));
        break;
      }
      case 'show': {
        const r = await callApprovals(options.keystore, request);
        if (options.json) printJson(io, r.approval);
        else io.stdout(formatDetail(r.approval));
        break;
      }
      case 'approve':
      case 'reject': {
        const { ok: _ok, ...r } = await callApprovals(options.keystore, request);
        if (options.json) printJson(io, r);
        else io.stdout(formatDecided(r));
        break;
      }
    }
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function approvalsCommand(): Command {
  const command = new Command('approvals').description(
    "the proposals and session-key grants this node's policy left to its operator (rule outcome `ask`): list, inspect, approve or reject them on the running node",
  );
  const sub = (name: string, description: string) => nodeSocketSubcommand(command, name, description);
  sub('list', 'list the approvals: awaiting, approved, rejected, expired').action(async (options: ApprovalsCommandOptions) => {
    process.exitCode = await runApprovalsCommand(options, { op: 'list' });
  });
  sub('show', 'show one request: its decoded summary and the raw hashes (intent hash, digest, EIP-712 domain and struct hashes)')
    .argument('<id>', 'the request id (or grant id)')
    .action(async (id: string, options: ApprovalsCommandOptions) => {
      process.exitCode = await runApprovalsCommand(options, { op: 'show', id });
    });
  sub('approve', 'approve a request: the node signs its decision and commits a nonce for it')
    .argument('<id>', 'the request id (or grant id)')
    .action(async (id: string, options: ApprovalsCommandOptions) => {
      process.exitCode = await runApprovalsCommand(options, { op: 'approve', id });
    });
  sub('reject', 'reject a request: the node signs its decline (OPERATOR_REJECTED) with your reason')
    .argument('<id>', 'the request id (or grant id)')
    .requiredOption('--reason <text>', 'why, for the record (signed, sent to the coordinator, kept in its audit log)')
    .action(async (id: string, options: ApprovalsCommandOptions & { reason: string }) => {
      process.exitCode = await runApprovalsCommand(options, { op: 'reject', id, reason: options.reason });
    });
  return command;
}

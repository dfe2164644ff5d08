import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { REQUEST_STATUSES, TERMINAL_REQUEST_STATUSES, type CreateSigningRequestInput, type RequestStatus, type SigningRequestResponse } from '#api';
import type { RoundtableClient } from '#sdk';
import { nonNegativeInt, positiveInt } from './cli-args.js';
import type { AdminIo } from './program.js';

/** The longest wait one GET may ask for (`waitMs`); longer waits are several of them. */
const MAX_WAIT_MS = 60_000;
const FINAL_REQUEST_STATUSES: readonly string[] = TERMINAL_REQUEST_STATUSES;

/** Reads a payload (`{"kind": ...}`, docs/protocol.md) from a JSON file, `-` for stdin; the coordinator validates it. */
function readPayload(file: string): CreateSigningRequestInput['payload'] {
  try {
    return JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as CreateSigningRequestInput['payload'];
  } catch (e) {
    throw new Error(`--payload-file ${file}: ${(e as Error).message}`);
  }
}

interface SignOptions {
  key: string;
  message?: string;
  encoding: 'utf8' | 'hex';
  payloadFile?: string;
  chainId?: number;
  sequence?: number;
  description: string;
  note?: string;
  deadline?: string;
  idempotencyKey?: string;
}

/** `requests list|show|cancel` and `sign`: signing requests, as a proposer or an admin. */
export function addRequestCommands(program: Command, client: () => RoundtableClient, print: (value: unknown) => void, io: AdminIo): void {
  /** Polls a request until it is final or `waitMs` has passed (each GET waits at most MAX_WAIT_MS). */
  const waitFor = async (api: RoundtableClient, id: string, waitMs: number, safeOwner?: string): Promise<SigningRequestResponse> => {
    const until = Date.now() + waitMs;
    for (;;) {
      const chunk = Math.max(0, Math.min(MAX_WAIT_MS, until - Date.now()));
      const r = await api.call('getSigningRequest', { params: { id }, query: { waitMs: chunk, ...(safeOwner !== undefined ? { safeOwner } : {}) } });
      if (FINAL_REQUEST_STATUSES.includes(r.status) || Date.now() >= until) return r;
    }
  };
  const requests = program.command('requests').description('signing requests: list, show (and wait for) one, cancel one');
  requests
    .command('list')
    .description('signing requests, newest first')
    .addOption(new Option('--status <status>', 'only requests in this state').choices(REQUEST_STATUSES))
    .option('--key <keyId>', "only this key's requests")
    .option('--limit <n>', 'at most this many (1..500)', positiveInt, 50)
    .option('--offset <n>', 'skip this many', nonNegativeInt, 0)
    .action(async (o: { status?: RequestStatus; key?: string; limit: number; offset: number }) =>
      print(await client().call('listSigningRequests', { query: { status: o.status, keyId: o.key, limit: o.limit, offset: o.offset } })),
    );
  requests
    .command('show')
    .description("one request: its intent, summary, hashes, each node's decision, attempts, culprits, signature")
    .argument('<requestId>', 'the request id')
    .option('--wait <ms>', 'wait up to this long for the request to be final', nonNegativeInt, 0)
    .option('--safe-owner <address>', "secp256k1: also frame the signature for this Safe owner contract (evm.safeSignature)")
    .action(async (id: string, o: { wait: number; safeOwner?: string }) => print(await waitFor(client(), id, o.wait, o.safeOwner)));
  requests
    .command('cancel')
    .description('cancel a request that has not finished: its nodes are told and hold no nonce for it')
    .argument('<requestId>', 'the request id')
    .option('--reason <text>', 'why, for the record')
    .action(async (id: string, o: { reason?: string }) =>
      print(await client().call('cancelSigningRequest', { params: { id }, body: o.reason ? { reason: o.reason } : {} })),
    );

  program
    .command('sign')
    .description('propose an intent and wait for its outcome (exit 1 unless completed)')
    .requiredOption('--key <keyId>', 'the key')
    .option('--message <message>', 'short form: a text (or, with --encoding hex, bytes) payload')
    .addOption(new Option('--encoding <encoding>', 'how --message is written').choices(['utf8', 'hex']).default('utf8'))
    .option('--payload-file <file>', 'the payload as JSON ({"kind": "eip712", "typedData": ...}, docs/protocol.md); - for stdin')
    .option('--chain-id <id>', 'the chain id (required for eip712 payloads)', positiveInt)
    .option('--sequence <n>', 'a sequence number, used at most once per key', nonNegativeInt)
    .option('--description <text>', 'what the signers are asked to approve', '')
    .option('--note <text>', 'a note for the operators')
    .option('--deadline <iso-time>', 'when the request expires (default: the coordinator\'s REQUEST_TTL_MS)')
    .option('--idempotency-key <key>', 'a retry with the same key and body returns the same request')
    .action(async (o: SignOptions) => {
      if ((o.message === undefined) === (o.payloadFile === undefined)) {
        program.error('give exactly one of --message or --payload-file');
      }
      const api = client();
      const created = await api.call('createSigningRequest', {
        body: {
          keyId: o.key,
          ...(o.payloadFile !== undefined ? { payload: readPayload(o.payloadFile) } : { message: o.message, encoding: o.encoding }),
          description: o.description,
          ...(o.chainId !== undefined ? { chainId: o.chainId } : {}),
          ...(o.sequence !== undefined ? { sequence: o.sequence } : {}),
          ...(o.note !== undefined ? { note: o.note } : {}),
          ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
          ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
        },
      });
      io.progress(`request ${created.id} created (intent hash ${created.intentHash}): ${created.summary}; waiting for the signers`);
      for (;;) {
        const r = await waitFor(api, created.id, MAX_WAIT_MS);
        if (FINAL_REQUEST_STATUSES.includes(r.status)) {
          print(r);
          if (r.status !== 'completed') io.setExitCode(1);
          return;
        }
      }
    });
}

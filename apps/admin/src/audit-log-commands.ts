import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { AuditBundleResponse } from '#api';
import { verifyBundle } from '#audit';
import { hexToBytes } from '#crypto';
import type { RoundtableClient } from '#sdk';
import { nonNegativeInt, positiveInt } from './cli-args.js';
import type { AdminIo } from './program.js';

/** The bundle as `GET /v1/audit/bundle` returns it; its own `logKey` is not trusted (the verifier is given the key). */
const BundleFile = AuditBundleResponse.extend({ logKey: AuditBundleResponse.shape.logKey.optional() });

/** `--log-key`: 64 hex digits, or a file holding them (or the JSON of `GET /v1/audit/log-key`). */
export function readLogKey(value: string): Uint8Array {
  let text = value.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    if (!existsSync(value)) throw new Error(`--log-key: neither 64 hex digits nor a readable file: ${value}`);
    text = readFileSync(value, 'utf8').trim();
    if (text.startsWith('{')) {
      const publicKey = (JSON.parse(text) as { publicKey?: unknown }).publicKey;
      text = typeof publicKey === 'string' ? publicKey : '';
    }
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error('--log-key: expected a 32-byte Ed25519 public key in hex');
  return hexToBytes(text.toLowerCase());
}

/** `--witness-key`, repeatable: 64 hex digits each. */
function collectKey(value: string, previous: Uint8Array[]): Uint8Array[] {
  const hex = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new InvalidArgumentError(`expected a 32-byte Ed25519 public key in hex, got ${value}`);
  return [...previous, hexToBytes(hex)];
}

/** `audit bundle` (fetch) and `audit verify-bundle` (offline, with only the log's public key). */
export function addAuditLogCommands(audit: Command, client: () => RoundtableClient, print: (value: unknown) => void, io: AdminIo): void {
  audit
    .command('bundle')
    .description('entries from..to with the latest checkpoint and an inclusion proof per entry (save it for verify-bundle)')
    .requiredOption('--from <seq>', 'first seq', positiveInt)
    .requiredOption('--to <seq>', 'last seq', positiveInt)
    .option('--witnesses <n>', 'use the newest checkpoint cosigned by at least n nodes (default 0: the newest)', nonNegativeInt, 0)
    .action(async (o: { from: number; to: number; witnesses: number }) => {
      print(await client().call('getAuditBundle', { query: { from: o.from, to: o.to, witnesses: o.witnesses } }));
    });
  audit
    .command('verify-bundle')
    .description("offline: check a bundle's checkpoint signature and cosignatures, entry hashes and inclusion proofs (exit 1 when refused)")
    .requiredOption('--bundle <file>', 'the bundle JSON (audit bundle, or GET /v1/audit/bundle)')
    .requiredOption('--log-key <hex-or-file>', "the log's Ed25519 public key, hex, or a file holding it")
    .option('--witness-key <hex>', "a witness's Ed25519 public key (a signer node's identity key, as `signer init` prints it); repeatable", collectKey, [])
    .option('--min-witnesses <n>', 'how many of the --witness-key nodes must have cosigned the checkpoint (default: all)', nonNegativeInt)
    .action((o: { bundle: string; logKey: string; witnessKey: Uint8Array[]; minWitnesses?: number }) => {
      const key = readLogKey(o.logKey);
      const trust = { witnesses: o.witnessKey.map((publicKey) => ({ publicKey })), ...(o.minWitnesses !== undefined ? { minWitnesses: o.minWitnesses } : {}) };
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(o.bundle === '-' ? 0 : o.bundle, 'utf8')) as unknown;
      } catch (e) {
        throw new Error(`--bundle ${o.bundle}: ${(e as Error).message}`);
      }
      const parsed = BundleFile.safeParse(raw);
      const verdict = parsed.success
        ? verifyBundle(parsed.data, key, trust)
        : { ok: false as const, reason: `malformed bundle: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
      print(verdict);
      if (!verdict.ok) io.setExitCode(1);
    });
}

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Intent } from '#protocol';
import { writeFileAtomic } from '../keystore/atomic-file.js';
import { SignerError } from '../signer-error.js';
import { YES, no, readAddress, readAmount, unknown, type Check } from './policy-fields.js';
import type { Limit } from './policy-schema.js';

/**
 * The node's velocity ledger: what each request whose share left the node spent against each limit,
 * kept in one JSON file in the state (keystore) directory, mode 0600, replaced atomically on every
 * commit. It holds the entries still inside the longest window of the policy's limits.
 *
 * - A limit counts every committed request it can measure, whichever rule or operator approved it: a
 *   count limit counts every request; an amount limit the requests with an integer `amountField`
 *   (and, with `asset: verifyingContract`, a verifying contract); a per-recipient limit those with an
 *   address `recipientField`. Buckets are per key (`key`) or per key and recipient (`recipient`).
 * - A request is recorded once (by request id): a second commit records nothing.
 * - A ledger that cannot be read (bad JSON, wrong shape, unreadable file) is not replaced: while it is
 *   corrupt every limit check answers `unknown` (so no limited rule allows) and nothing is recorded
 *   (so nothing that a limit measures may leave). Move the file aside to start counting afresh.
 */

export const POLICY_LEDGER_FILE = 'policy-ledger.json';

const Usage = z.strictObject({ limit: z.string(), bucket: z.string(), amount: z.string().regex(/^\d+$/).nullable() });
const Entry = z.strictObject({ requestId: z.string(), at: z.number().int().nonnegative(), usages: z.array(Usage) });
const LedgerFile = z.strictObject({ version: z.literal(1), entries: z.array(Entry) });
type Entry = z.infer<typeof Entry>;

/** What a request spends against one limit, or why it cannot be measured. */
export type Measure = { ok: true; bucket: string; amount: bigint | null } | { ok: false; reason: string };

export function measure(limit: Limit, intent: Intent): Measure {
  let bucket = `key:${intent.keyId.toLowerCase()}`;
  const needsTypedData = limit.per === 'recipient' || limit.amountField !== undefined;
  if (!needsTypedData) return { ok: true, bucket, amount: null };
  const p = intent.payload;
  if (p.kind !== 'eip712') return { ok: false, reason: `limit ${limit.id} measures EIP-712 fields; this is a ${p.kind} payload` };
  const td = p.typedData;
  if (limit.per === 'recipient') {
    const to = readAddress(td, limit.recipientField!);
    if (!to.ok) return { ok: false, reason: `limit ${limit.id}: ${to.reason}` };
    bucket += `|to:${to.address}`;
  }
  if (limit.amountField === undefined) return { ok: true, bucket, amount: null };
  const asset = limit.asset ?? 'verifyingContract';
  if (asset === 'verifyingContract') {
    const contract = td.domain.verifyingContract;
    if (contract === undefined) return { ok: false, reason: `limit ${limit.id} counts per verifying contract; the EIP-712 domain has none` };
    bucket += `|asset:${contract.toLowerCase()}`;
  } else {
    bucket += `|asset:${asset}`;
  }
  const amount = readAmount(td, limit.amountField);
  if (!amount.ok) return { ok: false, reason: `limit ${limit.id}: ${amount.reason}` };
  return { ok: true, bucket, amount: amount.amount };
}

const describeWindow = (ms: number): string =>
  ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}min` : `${ms}ms`;

export class VelocityLedger {
  private constructor(
    readonly path: string,
    private readonly limits: ReadonlyMap<string, Limit>,
    private entries: Entry[],
    /** Why the file cannot be used, or null when it can. */
    readonly corrupt: string | null,
  ) {}

  /** Opens the ledger at `path` (a missing file is an empty ledger). Never throws on bad content: see `corrupt`. */
  static async open(path: string, limits: readonly Limit[]): Promise<VelocityLedger> {
    const byId = new Map(limits.map((l) => [l.id, l]));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new VelocityLedger(path, byId, [], null);
      return new VelocityLedger(path, byId, [], `the velocity ledger ${path} cannot be read: ${(e as Error).message}`);
    }
    let parsed: z.infer<typeof LedgerFile>;
    try {
      parsed = LedgerFile.parse(JSON.parse(text));
    } catch (e) {
      const detail = e instanceof z.ZodError ? (e.issues[0]?.message ?? 'wrong shape') : (e as Error).message;
      return new VelocityLedger(path, byId, [], `the velocity ledger ${path} is corrupt (${detail}); nothing under a limit is allowed until it is repaired or moved aside`);
    }
    return new VelocityLedger(path, byId, parsed.entries, null);
  }

  has(requestId: string): boolean {
    return this.entries.some((e) => e.requestId === requestId);
  }

  /** Whether the request keeps limit `limitId` at `now` (its own earlier entry, if any, not counted twice). */
  keeps(limitId: string, requestId: string, intent: Intent, now: number): Check {
    if (this.corrupt) return unknown(this.corrupt);
    const limit = this.limits.get(limitId);
    if (!limit) return unknown(`no limit ${limitId}`);
    const m = measure(limit, intent);
    if (!m.ok) return unknown(m.reason);
    let count = 0;
    let spent = 0n;
    for (const e of this.entries) {
      // An entry from the future (the clock went back) still counts: fail closed.
      if (e.requestId === requestId || e.at <= now - limit.windowMs) continue;
      for (const u of e.usages) {
        if (u.limit !== limit.id || u.bucket !== m.bucket) continue;
        count += 1;
        if (u.amount !== null) spent += BigInt(u.amount);
      }
    }
    const window = describeWindow(limit.windowMs);
    if (limit.maxCount !== undefined && count + 1 > limit.maxCount) {
      return no(`limit ${limit.id}: ${count} of ${limit.maxCount} requests in the last ${window} already`);
    }
    if (limit.max !== undefined && m.amount !== null && spent + m.amount > BigInt(limit.max)) {
      return no(`limit ${limit.id}: ${m.amount} more would make ${spent + m.amount} of at most ${limit.max} in ${window} (${spent} spent)`);
    }
    return YES;
  }

  /** Records what the request spends against every limit that can measure it, durably. */
  async record(requestId: string, intent: Intent, now: number): Promise<void> {
    if (this.corrupt) throw new SignerError('POLICY_STATE_CORRUPT', this.corrupt);
    const usages: Entry['usages'] = [];
    for (const limit of this.limits.values()) {
      const m = measure(limit, intent);
      if (m.ok) usages.push({ limit: limit.id, bucket: m.bucket, amount: m.amount === null ? null : m.amount.toString() });
    }
    const horizon = Math.max(0, ...[...this.limits.values()].map((l) => l.windowMs));
    const kept = this.entries.filter((e) => e.at > now - horizon);
    const next = [...kept, { requestId, at: now, usages }];
    try {
      await writeFileAtomic(this.path, `${JSON.stringify({ version: 1, entries: next })}\n`);
    } catch (e) {
      throw new SignerError('POLICY_STATE_CORRUPT', `the velocity ledger ${this.path} cannot be written: ${(e as Error).message}`, { cause: e });
    }
    this.entries = next;
  }
}

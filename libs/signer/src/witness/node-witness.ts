import { createHash } from 'node:crypto';
import { z } from 'zod';
import { cosignCheckpoint, cosignerName, witnessCheckpoint, type WitnessedLog } from '#audit';
import { hexToBytes } from '#crypto';
import { hexBytes, type AuditCheckpointFrame, type NodeFrame, type Outgoing } from '#protocol';
import type { ApprovalRecordStore } from '../approvals/approval-queue.js';
import { describeError, type SignerLogger } from '../logger.js';

/** The witness events a signer node emits. */
export interface WitnessEvents {
  /** The node cosigned a checkpoint of the coordinator's transparency log. */
  'checkpoint-cosigned': [{ origin: string; treeSize: number }];
  /** The node refused one; CHECKPOINT_INCONSISTENT means the log was rewritten (an alarm for the operator). */
  'checkpoint-refused': [{ origin: string; treeSize: number; code: string; message: string }];
}

/** What the node keeps per log, sealed in the keystore (witness/<id>.json): the largest tree it cosigned. */
export const WitnessRecord = z.strictObject({
  version: z.literal(1),
  origin: z.string().min(1),
  logPublicKey: hexBytes(32),
  size: z.number().int().min(0),
  rootHash: hexBytes(32),
  cosignedAt: z.number().int(),
});
export type WitnessRecord = z.infer<typeof WitnessRecord>;

/** A record file is named by a UUID: the origin's SHA-256, formatted as one (the record names its origin). */
export function witnessRecordId(origin: string): string {
  const h = createHash('sha256').update(`roundtable/witness/v1\n${origin}`, 'utf8').digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface NodeWitnessOptions {
  records: ApprovalRecordStore;
  identity: { publicKey: string; signWithIdentity(message: Uint8Array): string };
  logger: SignerLogger;
  now: () => number;
  emit: <K extends keyof WitnessEvents>(event: K, ...args: WitnessEvents[K]) => void;
}

type Reply = (frame: Outgoing<NodeFrame>) => void;

class WitnessStateError extends Error {}

/**
 * The node as a witness of the coordinator's audit log (C2SP tlog-witness semantics): it verifies each
 * checkpoint it is shown against the largest one it cosigned (a consistency proof), writes the new state
 * durably, and only then returns its cosignature (C2SP tlog-cosignature, with its identity key). A
 * checkpoint that is not an extension of what it cosigned is refused and reported: the coordinator's log
 * was rewritten. Frames reach it one at a time (the node's inbox), so a check and its write never race.
 */
export class NodeWitness {
  private readonly name: string;

  constructor(private readonly options: NodeWitnessOptions) {
    this.name = cosignerName(options.identity.publicKey);
  }

  async handle(frame: AuditCheckpointFrame, reply: Reply): Promise<void> {
    const { origin, treeSize } = frame;
    let last: WitnessedLog | null;
    try {
      last = await this.load(origin);
    } catch (e) {
      if (!(e instanceof WitnessStateError)) throw e;
      this.options.logger.error({ origin, treeSize }, `${e.message}: refusing every checkpoint of this log until the operator removes it`);
      reply({ type: 'audit.refused', origin, treeSize, code: 'WITNESS_STATE_UNREADABLE', message: e.message.slice(0, 500) });
      this.options.emit('checkpoint-refused', { origin, treeSize, code: 'WITNESS_STATE_UNREADABLE', message: e.message });
      return;
    }
    const verdict = witnessCheckpoint(last, { note: frame.note, logPublicKey: frame.logPublicKey, oldSize: frame.oldSize, consistency: frame.consistency });
    if (!verdict.ok || verdict.checkpoint.origin !== origin || verdict.checkpoint.size !== treeSize) {
      const refusal = verdict.ok
        ? { code: 'CHECKPOINT_INVALID' as const, message: `the note is for ${verdict.checkpoint.origin} size ${verdict.checkpoint.size}, the frame says ${origin} size ${treeSize}` }
        : verdict;
      const fields = { origin, treeSize, code: refusal.code, message: refusal.message, ...(last ? { cosignedSize: last.size } : {}) };
      if (refusal.code === 'CHECKPOINT_INCONSISTENT' || refusal.code === 'LOG_KEY_CHANGED') {
        this.options.logger.error(fields, 'refused an audit checkpoint: the coordinator shows a log that is not the one this node witnessed');
      } else if (refusal.code === 'CHECKPOINT_OLD_SIZE') {
        this.options.logger.debug(fields, 'the coordinator sent a proof from another size; asking for one from ours');
      } else {
        this.options.logger.warn(fields, 'refused an invalid audit checkpoint');
      }
      reply({
        type: 'audit.refused',
        origin,
        treeSize,
        code: refusal.code,
        message: refusal.message.slice(0, 500),
        ...('witnessSize' in refusal && refusal.witnessSize !== undefined ? { witnessSize: refusal.witnessSize } : last ? { witnessSize: last.size } : {}),
      });
      if (refusal.code !== 'CHECKPOINT_OLD_SIZE') this.options.emit('checkpoint-refused', { origin, treeSize, code: refusal.code, message: refusal.message });
      return;
    }
    const now = this.options.now();
    // Persisted before the cosignature leaves: a crash after the write at worst withholds one cosignature.
    await this.save(verdict.next, now);
    const { publicKey } = this.options.identity;
    const cosignature = cosignCheckpoint(
      verdict.checkpoint,
      { name: this.name, publicKey: hexToBytes(publicKey), sign: (m) => hexToBytes(this.options.identity.signWithIdentity(m)) },
      Math.floor(now / 1000),
    );
    reply({ type: 'audit.cosignature', origin, treeSize, line: cosignature.line });
    this.options.emit('checkpoint-cosigned', { origin, treeSize });
  }

  /**
   * The largest tree of `origin` this node cosigned (null: none). A record that cannot be read or is not
   * of this origin throws: the node fails closed (it refuses every checkpoint of the origin until its
   * operator removes the record, which makes the next checkpoint a first sight).
   */
  async load(origin: string): Promise<WitnessedLog | null> {
    const id = witnessRecordId(origin);
    let raw: unknown;
    try {
      raw = await this.options.records.read(id);
    } catch (e) {
      throw new WitnessStateError(`the witness record witness/${id}.json cannot be read (${describeError(e)})`);
    }
    if (raw === null) return null;
    const parsed = WitnessRecord.safeParse(raw);
    if (!parsed.success || parsed.data.origin !== origin) throw new WitnessStateError(`the witness record witness/${id}.json is not a record of ${origin}`);
    const { logPublicKey, size, rootHash } = parsed.data;
    return { origin, logPublicKey, size, rootHash };
  }

  private async save(log: WitnessedLog, now: number): Promise<void> {
    const record: WitnessRecord = { version: 1, ...log, cosignedAt: now };
    await this.options.records.write(witnessRecordId(log.origin), record);
  }
}

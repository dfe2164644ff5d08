import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { SignerError } from '../signer-error.js';
import { SECRET_FILE_MODE, fsyncDirectory } from '../keystore/atomic-file.js';

const NonceId = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * One line of `nonces.jsonl`. Only ids travel to disk (sha256 of the public commitment), never a
 * nonce secret: a copy of the disk can tell which nonces were used but can never sign with one.
 */
export const JournalRecord = z.discriminatedUnion('event', [
  z.strictObject({ event: z.literal('issued'), id: NonceId, requestId: z.string().min(1).max(64), at: z.number().int() }),
  z.strictObject({ event: z.literal('consumed'), id: NonceId, attemptId: z.string().min(1).max(64), at: z.number().int() }),
  z.strictObject({ event: z.literal('discarded'), id: NonceId, reason: z.string().max(200), at: z.number().int() }),
]);
export type JournalRecord = z.infer<typeof JournalRecord>;

export type TerminalState = 'consumed' | 'discarded';

/** What the journal says about every nonce it ever recorded. */
export interface JournalReplay {
  /** Issued and never consumed nor discarded, oldest first: the previous process may have used them. */
  unsettled: { id: string; requestId: string }[];
  /** Every nonce that can never sign again. */
  settled: Map<string, TerminalState>;
  /** True when an incomplete last line (a write torn by a crash) was found and cut off. */
  tornTail: boolean;
}

/**
 * The append-only nonce journal. Each append is written and fsync'd before its promise resolves,
 * and appends are applied in call order. After a failed write the journal refuses every further
 * append: a half-written line followed by more lines would corrupt it, and a node that cannot
 * journal must not sign.
 */
export class NonceJournal {
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens (creating if needed) and replays the journal; a corrupt line before the last is an error. */
  static async open(path: string): Promise<{ journal: NonceJournal; replay: JournalReplay }> {
    let content: Buffer;
    let created = false;
    try {
      content = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SignerError('JOURNAL_UNAVAILABLE', `nonce journal ${path} is unreadable: ${(e as Error).message}`, { cause: e });
      }
      content = Buffer.alloc(0);
      created = true;
    }
    const { records, validLength } = parseJournal(path, content);
    const tornTail = validLength < content.length;
    // Cut the torn line off before appending, or the next record would be glued onto it.
    if (tornTail) await truncate(path, validLength);
    const handle = await open(path, 'a', SECRET_FILE_MODE);
    if (tornTail) await handle.sync();
    if (created) await fsyncDirectory(dirname(path));
    return { journal: new NonceJournal(path, handle), replay: { ...replay(records), tornTail } };
  }

  /** Appends the records in one write and fsyncs; resolves once they are durable. */
  append(...records: JournalRecord[]): Promise<void> {
    if (records.length === 0) return this.tail;
    const data = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    const write = this.tail.then(async () => {
      if (this.closed) throw new SignerError('JOURNAL_UNAVAILABLE', `nonce journal ${this.path} is closed`);
      if (this.failure) {
        throw new SignerError('JOURNAL_UNAVAILABLE', `nonce journal ${this.path} failed earlier: ${this.failure.message}`);
      }
      try {
        await this.handle.write(data);
        await this.handle.datasync();
      } catch (e) {
        this.failure = e as Error;
        throw new SignerError('JOURNAL_UNAVAILABLE', `cannot write nonce journal ${this.path}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    });
    // Later appends wait for this one whatever its outcome; the failure flag stops them if it failed.
    this.tail = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    await this.handle.close();
  }
}

/**
 * Parses the journal's lines. The last line may be torn (a crash during its write, possibly leaving
 * NUL bytes or no newline): it is dropped. Any other bad line means the file was damaged or edited
 * and the node cannot trust what it says about used nonces.
 */
function parseJournal(path: string, content: Buffer): { records: JournalRecord[]; validLength: number } {
  const records: JournalRecord[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < content.length) {
    const newline = content.indexOf(0x0a, start);
    const end = newline === -1 ? content.length : newline;
    const next = newline === -1 ? content.length : newline + 1;
    lineNumber++;
    const record = parseLine(content.subarray(start, end));
    if (record) {
      records.push(record);
    } else if (next >= content.length) {
      return { records, validLength: start };
    } else {
      throw new SignerError(
        'JOURNAL_CORRUPT',
        `nonce journal ${path} is corrupt at line ${lineNumber} (not the last line, so not a torn write); ` +
          'move it aside only if you are sure no nonce recorded in it can be in use',
      );
    }
    start = next;
  }
  return { records, validLength: content.length };
}

function parseLine(bytes: Buffer): JournalRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = JournalRecord.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function replay(records: readonly JournalRecord[]): Omit<JournalReplay, 'tornTail'> {
  const settled = new Map<string, TerminalState>();
  const issued = new Map<string, string>();
  for (const r of records) {
    switch (r.event) {
      case 'issued':
        issued.set(r.id, r.requestId);
        break;
      case 'consumed':
        settled.set(r.id, 'consumed');
        break;
      case 'discarded':
        // A consumed nonce stays "consumed" even if a later line also discards it.
        if (settled.get(r.id) !== 'consumed') settled.set(r.id, 'discarded');
        break;
    }
  }
  const unsettled = [...issued].filter(([id]) => !settled.has(id)).map(([id, requestId]) => ({ id, requestId }));
  return { unsettled, settled };
}

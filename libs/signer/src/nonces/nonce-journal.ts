import { open, readFile, type FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { SignerError } from '../signer-error.js';
import { SECRET_FILE_MODE, writeFileAtomic } from '../keystore/atomic-file.js';

const NonceId = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * One record of `nonces.jsonl`. Only ids are recorded (sha256 of the public commitment), never a
 * nonce secret, and each record is encrypted on disk (see JournalCipher): a copy of the disk can
 * neither sign with a nonce nor tell which requests the node took part in.
 */
export const JournalRecord = z.discriminatedUnion('event', [
  z.strictObject({ event: z.literal('issued'), id: NonceId, requestId: z.string().min(1).max(64), at: z.number().int() }),
  z.strictObject({ event: z.literal('consumed'), id: NonceId, attemptId: z.string().min(1).max(64), at: z.number().int() }),
  z.strictObject({ event: z.literal('discarded'), id: NonceId, reason: z.string().max(200), at: z.number().int() }),
]);
export type JournalRecord = z.infer<typeof JournalRecord>;

export type TerminalState = 'consumed' | 'discarded';

/** What decrypting one journal line gave. */
export type OpenedJournalLine = { kind: 'ok'; plaintext: string } | { kind: 'malformed' } | { kind: 'unauthentic' };

/**
 * Encrypts the journal's records. The file is a header line (`newHeader`) then one line per record;
 * record `index` (0-based, header excluded) is sealed and opened with the header line as context.
 */
export interface JournalCipher {
  newHeader(): string;
  /** Throws a SignerError when the header is not one this cipher wrote. */
  checkHeader(line: string, path: string): void;
  seal(header: string, index: number, plaintext: string): string;
  open(header: string, index: number, line: string): OpenedJournalLine;
}

/** Where the journal lives and how its records are encrypted. */
export interface JournalLocation {
  path: string;
  cipher: JournalCipher;
}

/** What the journal says about every nonce it ever recorded. */
export interface JournalReplay {
  /** Issued and never consumed nor discarded, oldest first: the previous process may have used them. */
  unsettled: { id: string; requestId: string }[];
  /** Every nonce that can never sign again. */
  settled: Map<string, TerminalState>;
  /** True when a torn last line (a write a crash interrupted) was found and cut off. */
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
    private readonly cipher: JournalCipher,
    private readonly header: string,
    /** Index of the next record appended. */
    private nextIndex: number,
  ) {}

  /**
   * Opens (creating if needed) and replays the journal. Nothing is written before the header has
   * been checked against the key and every line read: a wrong key or a corrupt journal changes
   * nothing on disk. Only a torn last line is cut off, and the cut is fsync'd before anything can be
   * appended: the next record starts on a line of its own.
   */
  static async open({ path, cipher }: JournalLocation): Promise<{ journal: NonceJournal; replay: JournalReplay }> {
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SignerError('JOURNAL_UNAVAILABLE', `nonce journal ${path} is unreadable: ${(e as Error).message}`, { cause: e });
      }
      content = Buffer.alloc(0);
    }
    if (content.length === 0) {
      // The header is written whole (atomically), so a journal never exists without one.
      await writeFileAtomic(path, `${cipher.newHeader()}\n`);
      content = await readFile(path);
    }
    const { header, records, validLength } = parseJournal(path, content, cipher);
    const tornTail = validLength < content.length;
    const handle = await open(path, 'a', SECRET_FILE_MODE);
    if (tornTail) {
      // Cut the torn line off, durably, before appending: the next record would be glued onto it.
      try {
        await handle.truncate(validLength);
        await handle.sync();
      } catch (e) {
        await handle.close();
        throw new SignerError('JOURNAL_UNAVAILABLE', `cannot cut the torn last line of nonce journal ${path}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    const journal = new NonceJournal(path, handle, cipher, header, records.length);
    return { journal, replay: { ...replay(records), tornTail } };
  }

  /** Appends the records in one write and fsyncs; resolves once they are durable. */
  append(...records: JournalRecord[]): Promise<void> {
    if (records.length === 0) return this.tail;
    const write = this.tail.then(async () => {
      if (this.closed) throw new SignerError('JOURNAL_UNAVAILABLE', `nonce journal ${this.path} is closed`);
      if (this.failure) {
        throw new SignerError('JOURNAL_UNAVAILABLE', `nonce journal ${this.path} failed earlier: ${this.failure.message}`);
      }
      // Sealed here, in append order, so that each record's index is its line's.
      const first = this.nextIndex;
      const data = records.map((r, i) => `${this.cipher.seal(this.header, first + i, JSON.stringify(r))}\n`).join('');
      try {
        await this.handle.write(data);
        await this.handle.datasync();
        this.nextIndex = first + records.length;
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

  /**
   * Refuses every further append, as after a failed write: for a node that may no longer be the
   * keystore's only writer (its lock was lost), whose records would interleave with another's.
   */
  fence(reason: string): void {
    this.failure ??= new Error(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    await this.handle.close();
  }
}

/**
 * Parses the journal: the header line, then one encrypted record per line, each ending with a newline.
 *
 * Every append is one write of whole lines, fsync'd before it counts, and an open cuts a torn tail
 * before appending; so a crash can only damage the end of the file, inside the one write it
 * interrupted, whose records nothing has acted on yet. Hence the torn tail, which is cut off:
 * - a last line without its newline, whatever it holds (part of a record, a whole record short of its
 *   newline, NUL bytes, a record that fails authentication): its write never completed;
 * - a last line, with its newline, that is not a sealed record at all (NUL bytes, a partial record).
 * Anything else means the file was damaged or edited, and the node cannot trust what it says about used
 * nonces: a line that fails authentication (KEYSTORE_TAMPERED), an undecodable line before the last
 * (JOURNAL_CORRUPT).
 *
 * Journals written before torn tails were cut may hold a whole record with the next append glued onto
 * it on one line; such a line is read as the sealed records it is made of when every one of them opens
 * at its index, so that no record appended after a torn tail (a `consumed` one above all) is lost.
 */
function parseJournal(
  path: string,
  content: Buffer,
  cipher: JournalCipher,
): { header: string; records: JournalRecord[]; validLength: number } {
  const headerEnd = content.indexOf(0x0a);
  if (headerEnd === -1) throw new SignerError('JOURNAL_CORRUPT', `nonce journal ${path} has no complete header line`);
  const header = content.subarray(0, headerEnd).toString('utf8');
  cipher.checkHeader(header, path);
  const records: JournalRecord[] = [];
  let start = headerEnd + 1;
  let lineNumber = 1;
  while (start < content.length) {
    const newline = content.indexOf(0x0a, start);
    if (newline === -1) return { header, records, validLength: start };
    const next = newline + 1;
    lineNumber++;
    const line = content.subarray(start, newline).toString('utf8');
    const opened = cipher.open(header, records.length, line);
    const record = opened.kind === 'ok' ? parseRecord(opened.plaintext) : undefined;
    const glued = record || opened.kind !== 'malformed' ? undefined : openGlued(cipher, header, records.length, line);
    if (record) {
      records.push(record);
    } else if (glued) {
      records.push(...glued);
    } else if (opened.kind === 'unauthentic') {
      throw new SignerError(
        'KEYSTORE_TAMPERED',
        `nonce journal ${path} line ${lineNumber} fails authentication: the journal was altered (lines edited, moved or removed)`,
      );
    } else if (next >= content.length && opened.kind === 'malformed') {
      return { header, records, validLength: start };
    } else {
      throw new SignerError(
        'JOURNAL_CORRUPT',
        `nonce journal ${path} is corrupt at line ${lineNumber} (not the last line, so not a torn write); ` +
          'move it aside only if you are sure no nonce recorded in it can be in use',
      );
    }
    start = next;
  }
  return { header, records, validLength: content.length };
}

/**
 * The records of a line made of two or more sealed records glued together (see parseJournal), or
 * undefined when it is not exactly that. Sealed records are JSON objects of hex and base64 strings, so
 * `}{` occurs only between two of them.
 */
function openGlued(cipher: JournalCipher, header: string, firstIndex: number, line: string): JournalRecord[] | undefined {
  const pieces = line.split(/(?<=\})(?=\{)/);
  if (pieces.length < 2) return undefined;
  const records: JournalRecord[] = [];
  for (const [i, piece] of pieces.entries()) {
    const opened = cipher.open(header, firstIndex + i, piece);
    const record = opened.kind === 'ok' ? parseRecord(opened.plaintext) : undefined;
    if (!record) return undefined;
    records.push(record);
  }
  return records;
}

function parseRecord(text: string): JournalRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
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

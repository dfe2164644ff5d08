import { appendFile, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeystoreJournalCipher } from '../keystore/journal-cipher.js';
import { KDF_COSTS, PassphraseKey } from '../keystore/passphrase-key.js';
import { SignerError } from '../signer-error.js';
import { decryptTestJournalText, tempDir, testJournalLocation } from '../testing/key-fixtures.js';
import { NonceJournal, type JournalLocation, type JournalRecord } from './nonce-journal.js';

const id = (n: number) => n.toString(16).padStart(64, '0');
const REQ = '11111111-1111-4111-8111-111111111111';

describe('NonceJournal', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let location: JournalLocation & { cipher: KeystoreJournalCipher };
  /** Writes a journal by hand: the header line, then `records` sealed at their indexes. */
  const writeJournal = async (records: (JournalRecord | string)[]) => {
    const header = location.cipher.newHeader();
    const lines = records.map((r, i) => (typeof r === 'string' ? r : location.cipher.seal(header, i, JSON.stringify(r))));
    await writeFile(location.path, [header, ...lines].map((l) => `${l}\n`).join(''));
  };
  const expectError = async (code: string, pattern?: RegExp) => {
    const before = await readFile(location.path);
    const error = await NonceJournal.open(location).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignerError);
    expect(error).toMatchObject({ code });
    if (pattern) expect((error as Error).message).toMatch(pattern);
    // nothing changed on disk
    expect(await readFile(location.path)).toEqual(before);
  };

  beforeEach(async () => {
    dir = await tempDir();
    location = await testJournalLocation(join(dir.path, 'nonces.jsonl'));
  });
  afterEach(() => dir.cleanup());

  it('creates the file 0600 with a header, appends encrypted lines and replays them', async () => {
    const { journal, replay } = await NonceJournal.open(location);
    expect(replay).toEqual({ unsettled: [], settled: new Map(), tornTail: false });
    await journal.append({ event: 'issued', id: id(1), requestId: REQ, at: 1 }, { event: 'issued', id: id(2), requestId: REQ, at: 1 });
    await journal.append({ event: 'consumed', id: id(1), attemptId: 'attempt-one', at: 2 });
    await journal.append({ event: 'issued', id: id(3), requestId: REQ, at: 3 }, { event: 'discarded', id: id(3), reason: 'x', at: 3 });
    await journal.close();
    expect((await stat(location.path)).mode & 0o777).toBe(0o600);
    const text = await readFile(location.path, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(6);
    // neither a nonce id nor a request id nor an event name is on disk in the clear
    for (const secret of [id(1), id(2), REQ, 'consumed', 'attempt-one']) expect(text).not.toContain(secret);

    const again = await NonceJournal.open(location);
    expect(again.replay.unsettled).toEqual([{ id: id(2), requestId: REQ }]);
    expect(again.replay.settled).toEqual(new Map([[id(1), 'consumed'], [id(3), 'discarded']]));
    await again.journal.close();
  });

  it('drops a torn last line (with or without its newline) and appends cleanly after it', async () => {
    await writeJournal([{ event: 'issued', id: id(1), requestId: REQ, at: 1 }]);
    await appendFile(location.path, '{"nonce":"00');
    const first = await NonceJournal.open(location);
    expect(first.replay.tornTail).toBe(true);
    expect(first.replay.unsettled).toEqual([{ id: id(1), requestId: REQ }]);
    await first.journal.append({ event: 'discarded', id: id(1), reason: 'restart', at: 2 });
    await first.journal.close();

    // NUL bytes, as a crash on some filesystems leaves them, with a trailing newline
    await appendFile(location.path, '\0\0\0\0\n');
    const second = await NonceJournal.open(location);
    expect(second.replay.tornTail).toBe(true);
    expect(second.replay.settled.get(id(1))).toBe('discarded');
    await second.journal.close();
    const lines = (await readFile(location.path, 'utf8')).split('\n');
    expect(lines).toHaveLength(4); // header, two records and the empty string after the final newline
  });

  describe('a torn tail', () => {
    const issued1: JournalRecord = { event: 'issued', id: id(1), requestId: REQ, at: 1 };
    const consumed1: JournalRecord = { event: 'consumed', id: id(1), attemptId: 'attempt-1', at: 2 };
    const issued2: JournalRecord = { event: 'issued', id: id(2), requestId: REQ, at: 3 };
    const consumed2: JournalRecord = { event: 'consumed', id: id(2), attemptId: 'attempt-2', at: 4 };
    const discarded3: JournalRecord = { event: 'discarded', id: id(3), reason: 'restart', at: 5 };
    /** The sealed line of `record` at `index` of the journal on disk (no newline). */
    const sealedAt = async (index: number, record: JournalRecord) => {
      const header = (await readFile(location.path, 'utf8')).split('\n')[0]!;
      return location.cipher.seal(header, index, JSON.stringify(record));
    };
    const flipped = (line: string) => {
      const sealed = JSON.parse(line) as { nonce: string; ciphertext: string };
      const bytes = Buffer.from(sealed.ciphertext, 'base64');
      bytes[0]! ^= 1;
      return JSON.stringify({ ...sealed, ciphertext: bytes.toString('base64') });
    };

    // Each shape: what a crash during the append of record index 2 (or of a batch from index 2) can leave.
    const shapes: [string, () => Promise<string>][] = [
      ['part of a record', async () => (await sealedAt(2, issued2)).slice(0, 40)],
      ['a whole record without its newline', () => sealedAt(2, issued2)],
      ['NUL bytes without a newline', () => Promise.resolve('\0'.repeat(64))],
      ['NUL bytes with a newline', () => Promise.resolve(`${'\0'.repeat(64)}\n`)],
      ['part of a record, then NUL bytes', async () => `${(await sealedAt(2, issued2)).slice(0, 30)}${'\0'.repeat(40)}`],
      ['a batch torn in its second line', async () => `${await sealedAt(2, issued2)}\n${(await sealedAt(3, discarded3)).slice(0, 50)}`],
      ['a batch whose second line lacks its newline', async () => `${await sealedAt(2, issued2)}\n${await sealedAt(3, discarded3)}`],
      ['a batch whose second line is NUL bytes', async () => `${await sealedAt(2, issued2)}\n${'\0'.repeat(80)}`],
      ['a record that decodes but fails authentication, without its newline', async () => flipped(await sealedAt(2, issued2))],
      ['a record sealed at another index, without its newline', () => sealedAt(7, issued2)],
    ];

    it.each(shapes)('%s: is cut off, loses no earlier record, and the node starts and appends on a line of its own', async (_name, tail) => {
      await writeJournal([issued1, consumed1]);
      const intact = await readFile(location.path);
      await appendFile(location.path, await tail());

      const first = await NonceJournal.open(location);
      expect(first.replay.tornTail).toBe(true);
      expect(first.replay.settled.get(id(1))).toBe('consumed');
      // Cut before anything is appended: the file is the intact part plus whole records only.
      const cut = await readFile(location.path);
      expect(cut.subarray(0, intact.length)).toEqual(intact);
      const cutLines = cut.toString().split('\n');
      expect(cutLines.pop()).toBe('');
      const records = decryptTestJournalText(location, cut.toString());
      expect(records).toHaveLength(cutLines.length - 1);
      expect(records.slice(0, 2)).toEqual([issued1, consumed1]);
      await first.journal.append(consumed2);
      await first.journal.append({ event: 'discarded', id: id(4), reason: 'limit', at: 6 });
      await first.journal.close();

      const second = await NonceJournal.open(location);
      expect(second.replay.tornTail).toBe(false);
      expect(second.replay.settled.get(id(1))).toBe('consumed');
      expect(second.replay.settled.get(id(2))).toBe('consumed');
      expect(second.replay.settled.get(id(4))).toBe('discarded');
      await second.journal.close();
      const text = await readFile(location.path, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(decryptTestJournalText(location, text)).toHaveLength(records.length + 2);
    });

    it('is cut and the cut fsync\'d before the first append is written', async () => {
      await writeJournal([issued1, consumed1]);
      await appendFile(location.path, await sealedAt(2, issued2));
      const probe = await open(location.path, 'r');
      const proto = Object.getPrototypeOf(probe) as { truncate: () => Promise<void>; sync: () => Promise<void>; write: () => Promise<unknown> };
      await probe.close();
      const order: string[] = [];
      for (const name of ['truncate', 'sync', 'write'] as const) {
        const original = proto[name];
        vi.spyOn(proto, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
          order.push(name);
          return (original as (...a: unknown[]) => Promise<never>).apply(this, args);
        });
      }
      try {
        const { journal } = await NonceJournal.open(location);
        await journal.append(consumed2);
        await journal.close();
      } finally {
        vi.restoreAllMocks();
      }
      expect(order.slice(0, 3)).toEqual(['truncate', 'sync', 'write']);
    });

    it('a record appended after a torn whole record is never lost (the next open used to drop the glued line)', async () => {
      await writeJournal([issued1]);
      await appendFile(location.path, await sealedAt(1, issued2)); // a whole record, torn before its newline
      const first = await NonceJournal.open(location);
      await first.journal.append(consumed1);
      await first.journal.close();
      const second = await NonceJournal.open(location);
      expect(second.replay.settled.get(id(1))).toBe('consumed');
      expect(second.replay.tornTail).toBe(false);
      await second.journal.append(discarded3);
      await second.journal.close();
      // and more lines after it never stop the node from starting
      const third = await NonceJournal.open(location);
      expect(third.replay.settled).toEqual(new Map([[id(1), 'consumed'], [id(3), 'discarded']]));
      await third.journal.close();
    });

    it('reads a line glued by an earlier version as the records it holds, wherever it is', async () => {
      // An earlier version kept a whole record torn before its newline, then appended right after it.
      const header = location.cipher.newHeader();
      const seal = (index: number, record: JournalRecord) => location.cipher.seal(header, index, JSON.stringify(record));
      const glued = `${seal(1, issued2)}${seal(2, consumed1)}`;
      await writeFile(location.path, `${header}\n${seal(0, issued1)}\n${glued}\n`);
      const last = await NonceJournal.open(location);
      expect(last.replay.settled.get(id(1))).toBe('consumed');
      expect(last.replay.tornTail).toBe(false);
      await last.journal.close();

      await writeFile(location.path, `${header}\n${seal(0, issued1)}\n${glued}\n${seal(3, consumed2)}\n`);
      const middle = await NonceJournal.open(location);
      expect(middle.replay.settled).toEqual(new Map([[id(1), 'consumed'], [id(2), 'consumed']]));
      await middle.journal.close();

      // Glued pieces must each open at their own index: swapped, they are tampering.
      await writeFile(location.path, `${header}\n${seal(0, issued1)}\n${seal(2, consumed1)}${seal(1, issued2)}\n${seal(3, consumed2)}\n`);
      await expectError('JOURNAL_CORRUPT', /line 3/);
    });
  });

  it('refuses a journal with a corrupt line before the last, and changes nothing', async () => {
    await writeJournal([{ event: 'issued', id: id(1), requestId: REQ, at: 1 }, 'garbage', { event: 'consumed', id: id(1), attemptId: 'a', at: 2 }]);
    await expectError('JOURNAL_CORRUPT', /line 3/);
  });

  it('refuses a complete line that fails authentication, even the last one, and changes nothing', async () => {
    await writeJournal([{ event: 'issued', id: id(1), requestId: REQ, at: 1 }, { event: 'consumed', id: id(1), attemptId: 'a', at: 2 }]);
    const text = await readFile(location.path, 'utf8');
    const lines = text.split('\n');
    const flip = (line: string) => {
      const record = JSON.parse(line) as { nonce: string; ciphertext: string };
      const bytes = Buffer.from(record.ciphertext, 'base64');
      bytes[0]! ^= 1;
      return JSON.stringify({ ...record, ciphertext: bytes.toString('base64') });
    };
    await writeFile(location.path, [lines[0], lines[1], flip(lines[2]!), ''].join('\n'));
    await expectError('KEYSTORE_TAMPERED', /line 3 fails authentication/);
    // swapped lines: each is authentic, but not at its index
    await writeFile(location.path, [lines[0], lines[2], lines[1], ''].join('\n'));
    await expectError('KEYSTORE_TAMPERED');
  });

  it('refuses a journal written with another key or a damaged header, and changes nothing', async () => {
    await writeJournal([{ event: 'issued', id: id(1), requestId: REQ, at: 1 }]);
    const other = { path: location.path, cipher: new KeystoreJournalCipher(await PassphraseKey.create('another', KDF_COSTS.test)) };
    const before = await readFile(location.path);
    await expect(NonceJournal.open(other)).rejects.toMatchObject({ code: 'KEYSTORE_TAMPERED' });
    expect(await readFile(location.path)).toEqual(before);
    await writeFile(location.path, `{"format":"roundtable-nonce-journal"\n${before.toString().split('\n')[1]}\n`);
    await expectError('JOURNAL_CORRUPT', /header/);
  });

  it('refuses a record that decrypts but is not a journal record', async () => {
    await writeJournal(['x', { event: 'issued', id: id(1), requestId: REQ, at: 1 }]);
    const header = location.cipher.newHeader();
    const bad = location.cipher.seal(header, 0, '{"event":"issued","id":"nothex","requestId":"r","at":1}');
    const good = location.cipher.seal(header, 1, JSON.stringify({ event: 'issued', id: id(1), requestId: REQ, at: 1 }));
    await writeFile(location.path, `${header}\n${bad}\n${good}\n`);
    await expect(NonceJournal.open(location)).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT' });
  });

  it('keeps a consumed nonce consumed even if it is also discarded later', async () => {
    await writeJournal([
      { event: 'issued', id: id(1), requestId: REQ, at: 1 },
      { event: 'consumed', id: id(1), attemptId: 'a', at: 2 },
      { event: 'discarded', id: id(1), reason: 'shutdown', at: 3 },
    ]);
    const { journal, replay } = await NonceJournal.open(location);
    expect(replay.settled.get(id(1))).toBe('consumed');
    await journal.close();
  });

  it('refuses to append once closed', async () => {
    const { journal } = await NonceJournal.open(location);
    await journal.close();
    await expect(journal.append({ event: 'issued', id: id(1), requestId: REQ, at: 1 })).rejects.toMatchObject({
      code: 'JOURNAL_UNAVAILABLE',
    });
  });
});

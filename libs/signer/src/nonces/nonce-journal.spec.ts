import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignerError } from '../signer-error.js';
import { tempDir } from '../testing/key-fixtures.js';
import { NonceJournal, type JournalRecord } from './nonce-journal.js';

const id = (n: number) => n.toString(16).padStart(64, '0');
const REQ = '11111111-1111-4111-8111-111111111111';
const line = (r: JournalRecord) => `${JSON.stringify(r)}\n`;

describe('NonceJournal', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir.path, 'nonces.jsonl');
  });
  afterEach(() => dir.cleanup());

  it('creates the file 0600, appends JSON lines and replays them', async () => {
    const { journal, replay } = await NonceJournal.open(path);
    expect(replay).toEqual({ unsettled: [], settled: new Map(), tornTail: false });
    await journal.append({ event: 'issued', id: id(1), requestId: REQ, at: 1 }, { event: 'issued', id: id(2), requestId: REQ, at: 1 });
    await journal.append({ event: 'consumed', id: id(1), attemptId: 'a1', at: 2 });
    await journal.append({ event: 'issued', id: id(3), requestId: REQ, at: 3 }, { event: 'discarded', id: id(3), reason: 'x', at: 3 });
    await journal.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(5);

    const again = await NonceJournal.open(path);
    expect(again.replay.unsettled).toEqual([{ id: id(2), requestId: REQ }]);
    expect(again.replay.settled).toEqual(new Map([[id(1), 'consumed'], [id(3), 'discarded']]));
    await again.journal.close();
  });

  it('drops a torn last line (with or without its newline) and appends cleanly after it', async () => {
    await writeFile(path, line({ event: 'issued', id: id(1), requestId: REQ, at: 1 }) + '{"event":"consumed","id":"00');
    const first = await NonceJournal.open(path);
    expect(first.replay.tornTail).toBe(true);
    expect(first.replay.unsettled).toEqual([{ id: id(1), requestId: REQ }]);
    await first.journal.append({ event: 'discarded', id: id(1), reason: 'restart', at: 2 });
    await first.journal.close();

    // NUL bytes, as a crash on some filesystems leaves them, with a trailing newline
    await appendFile(path, '\0\0\0\0\n');
    const second = await NonceJournal.open(path);
    expect(second.replay.tornTail).toBe(true);
    expect(second.replay.settled.get(id(1))).toBe('discarded');
    await second.journal.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).toHaveLength(3); // two records and the empty string after the final newline
  });

  it('refuses a journal with a corrupt line before the last', async () => {
    await writeFile(
      path,
      line({ event: 'issued', id: id(1), requestId: REQ, at: 1 }) + 'garbage\n' + line({ event: 'consumed', id: id(1), attemptId: 'a', at: 2 }),
    );
    const error = await NonceJournal.open(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignerError);
    expect(error).toMatchObject({ code: 'JOURNAL_CORRUPT', message: expect.stringMatching(/line 2/) as unknown });
  });

  it('refuses a line that is valid JSON but not a journal record', async () => {
    await writeFile(path, '{"event":"issued","id":"nothex","requestId":"r","at":1}\n' + line({ event: 'issued', id: id(1), requestId: REQ, at: 1 }));
    await expect(NonceJournal.open(path)).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT' });
  });

  it('keeps a consumed nonce consumed even if it is also discarded later', async () => {
    await writeFile(
      path,
      line({ event: 'issued', id: id(1), requestId: REQ, at: 1 }) +
        line({ event: 'consumed', id: id(1), attemptId: 'a', at: 2 }) +
        line({ event: 'discarded', id: id(1), reason: 'shutdown', at: 3 }),
    );
    const { journal, replay } = await NonceJournal.open(path);
    expect(replay.settled.get(id(1))).toBe('consumed');
    await journal.close();
  });

  it('refuses to append once closed', async () => {
    const { journal } = await NonceJournal.open(path);
    await journal.close();
    await expect(journal.append({ event: 'issued', id: id(1), requestId: REQ, at: 1 })).rejects.toMatchObject({
      code: 'JOURNAL_UNAVAILABLE',
    });
  });
});

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '../signer-error.js';
import { SECRET_DIR_MODE, fsyncDirectory, writeFileAtomic } from './atomic-file.js';
import { openFile, readFileHeader, sealFile } from './encrypted-file.js';
import { UUID, exists, listNames, readText } from './keystore-files.js';
import type { PassphraseKey } from './passphrase-key.js';

const SUFFIX = '.json';

/**
 * A directory of small records in the keystore, one encrypted file per id (a UUID), sealed under the
 * keystore's key with purpose `<kind>:<id>`: a record cannot be read without the passphrase, nor
 * altered, nor swapped for another id's. Writes are atomic and durable (see writeFileAtomic). The
 * approvals queue keeps its entries here (approvals/<requestId>.json).
 */
export class RecordFiles {
  constructor(
    private readonly dir: string,
    private readonly kind: string,
    private readonly key: PassphraseKey,
  ) {}

  async write(id: string, record: object): Promise<void> {
    assertId(id);
    if (!(await exists(this.dir))) {
      await mkdir(this.dir, { recursive: true, mode: SECRET_DIR_MODE });
      await fsyncDirectory(join(this.dir, '..'));
    }
    await writeFileAtomic(this.path(id), sealFile(this.key, this.purpose(id), record));
  }

  /** The decrypted JSON of the record `id`, or null when there is none. */
  async read(id: string): Promise<unknown> {
    assertId(id);
    const path = this.path(id);
    if (!(await exists(path))) return null;
    const what = `${this.kind} record ${path}`;
    return openFile(readFileHeader(await readText(path, what), what), this.key, { purpose: this.purpose(id), what, firstUnlock: false });
  }

  /** The ids of every record, sorted. */
  async list(): Promise<string[]> {
    return (await listNames(this.dir))
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => n.slice(0, -SUFFIX.length))
      .filter((id) => UUID.test(id))
      .sort();
  }

  async remove(id: string): Promise<void> {
    assertId(id);
    await rm(this.path(id), { force: true });
    await fsyncDirectory(this.dir).catch(() => undefined);
  }

  private path(id: string): string {
    return join(this.dir, `${id.toLowerCase()}${SUFFIX}`);
  }

  private purpose(id: string): string {
    return `${this.kind}:${id.toLowerCase()}`;
  }
}

function assertId(id: string): void {
  // The id becomes a file name: anything but a UUID could escape the directory.
  if (!UUID.test(id)) throw new SignerError('INVALID_CONFIG', `record id ${JSON.stringify(id)} is not a UUID`);
}

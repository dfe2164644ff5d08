import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { commit, dealKey, getSuite, type CommitmentHex, type PublicKeyPackage, type SuiteId } from '#crypto';
import { Keystore } from '../keystore/keystore.js';
import { KeystoreJournalCipher } from '../keystore/journal-cipher.js';
import { KDF_COSTS, PassphraseKey } from '../keystore/passphrase-key.js';
import type { JournalLocation } from '../nonces/nonce-journal.js';

/** The passphrase of every test keystore; with the low test KDF cost so that tests stay fast. */
export const TEST_PASSPHRASE = 'test passphrase: correct horse battery staple';
export const TEST_KEYSTORE = { passphrase: TEST_PASSPHRASE, kdfCost: KDF_COSTS.test };

/** Creates a test keystore (test passphrase, low KDF cost). */
export const initTestKeystore = (dir: string, options: { force?: boolean } = {}): Promise<Keystore> =>
  Keystore.init(dir, { ...TEST_KEYSTORE, ...options });
/** Opens a test keystore with the test passphrase. */
export const openTestKeystore = (dir: string): Promise<Keystore> => Keystore.open(dir, { passphrase: TEST_PASSPHRASE });

/** A temporary directory for one test; `cleanup` removes it. */
export async function tempDir(prefix = 'roundtable-signer-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface DealtTestKey {
  keyId: string;
  suite: SuiteId;
  publicPackage: PublicKeyPackage;
  /** identifier by participant index (0-based). */
  identifiers: string[];
  /** secret share by identifier. */
  secretShares: Record<string, string>;
  /** keystore directory by participant index; empty for participants without a keystore. */
  keystores: string[];
}

/**
 * Deals a t-of-n key and writes the shares of the first `withKeystores` participants into fresh
 * keystores under `root`; the other shares stay with the test, to play the other signers.
 */
export async function dealTestKey(
  root: string,
  options: { suite: SuiteId; threshold: number; maxSigners: number; withKeystores: number },
): Promise<DealtTestKey> {
  const suite = getSuite(options.suite);
  const dealt = dealKey(options.suite, options.threshold, options.maxSigners);
  const keyId = randomUUID();
  const identifiers = Array.from({ length: options.maxSigners }, (_, i) => suite.identifier(i + 1));
  const keystores: string[] = [];
  for (let i = 0; i < options.withKeystores; i++) {
    const dir = join(root, `node-${i + 1}`);
    const keystore = await initTestKeystore(dir);
    const identifier = identifiers[i]!;
    await keystore.writeShare({
      keyId,
      suite: options.suite,
      identifier,
      signingShare: dealt.secretShares[identifier]!,
      publicPackage: dealt.public,
    });
    keystores.push(dir);
  }
  return { keyId, suite: options.suite, publicPackage: dealt.public, identifiers, secretShares: dealt.secretShares, keystores };
}

/** A commitment made by participant `index` with its real share (the test plays that signer). */
export function commitAs(key: DealtTestKey, index: number): CommitmentHex {
  const identifier = key.identifiers[index]!;
  return commit(key.suite, identifier, key.secretShares[identifier]!).commitment;
}

/** Decrypts a journal's text: its records, oldest first (a torn or undecryptable line is skipped). */
export function decryptTestJournalText(location: Pick<JournalLocation, 'cipher'>, text: string): Record<string, unknown>[] {
  const [header = '', ...lines] = text.split('\n').filter(Boolean);
  const records: Record<string, unknown>[] = [];
  for (const [i, line] of lines.entries()) {
    const opened = location.cipher.open(header, i, line);
    if (opened.kind === 'ok') records.push(JSON.parse(opened.plaintext) as Record<string, unknown>);
  }
  return records;
}

/** Decrypts a journal's text with a keystore's key (the test passphrase unless told otherwise). */
export async function decryptTestJournal(keystoreDir: string, text: string, passphrase = TEST_PASSPHRASE): Promise<Record<string, unknown>[]> {
  return decryptTestJournalText((await Keystore.open(keystoreDir, { passphrase })).nonceJournal, text);
}

/** The records of a test keystore's nonce journal. */
export async function readTestJournal(keystoreDir: string): Promise<Record<string, unknown>[]> {
  return decryptTestJournal(keystoreDir, await readFile(join(keystoreDir, 'nonces.jsonl'), 'utf8'));
}

/** A journal location with a fresh test key (low KDF cost), for journal and nonce-store tests. */
export async function testJournalLocation(path: string): Promise<JournalLocation & { cipher: KeystoreJournalCipher }> {
  return { path, cipher: new KeystoreJournalCipher(await PassphraseKey.create(TEST_PASSPHRASE, KDF_COSTS.test)) };
}

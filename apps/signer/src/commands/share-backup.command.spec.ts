import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { lockKeystore } from '#signer';
import { dealTestKey, openTestKeystore } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { ExitCode } from '../cli-io.js';
import { captureIo, useCommandSandbox } from './cli-test-support.js';
import { runInitCommand } from './init.command.js';
import { importShareCommand, runExportShareCommand, runImportShareCommand } from './share-backup.command.js';


describe('export-share and import-share commands', () => {
  const sandbox = useCommandSandbox();

  it('round trip; a wrong export passphrase is refused', async () => {
    const key = await dealTestKey(sandbox.dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 2, withKeystores: 2 });
    const out = join(sandbox.dir.path, 'backup.json');
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'export passphrase');
    const exported = captureIo();
    expect(await runExportShareCommand({ keystore: key.keystores[0]!, keyId: key.keyId, out }, exported.io)).toBe(ExitCode.OK);
    expect(JSON.parse(exported.out.join('\n'))).toEqual({ keyId: key.keyId, out });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const again = captureIo();
    expect(await runExportShareCommand({ keystore: key.keystores[0]!, keyId: key.keyId, out }, again.io)).toBe(ExitCode.ERROR);
    expect(again.err.join('\n')).toMatch(/already exists/);

    const source = await openTestKeystore(key.keystores[0]!);
    await source.removeShare(key.keyId);
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'not the export passphrase');
    const wrong = captureIo();
    expect(await runImportShareCommand({ keystore: key.keystores[0]!, in: out }, wrong.io)).toBe(ExitCode.ERROR);
    expect(wrong.err.join('\n')).toMatch(/wrong passphrase/);
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'export passphrase');
    const imported = captureIo();
    expect(await runImportShareCommand({ keystore: key.keystores[0]!, in: out }, imported.io)).toBe(ExitCode.OK);
    expect(JSON.parse(imported.out.join('\n'))).toEqual({
      keyId: key.keyId,
      keystore: key.keystores[0]!,
      identity: source.publicKey,
      exportedBy: source.publicKey,
      forced: false,
    });
    expect(imported.err).toEqual([]);
    expect((await source.readShare(key.keyId)).signingShare).toBe(key.secretShares[key.identifiers[0]!]);
  });

  it('import-share refuses a backup of another identity, naming both keys; --force imports it and says so', async () => {
    const key = await dealTestKey(sandbox.dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 2, withKeystores: 1 });
    const out = join(sandbox.dir.path, 'backup.json');
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'export passphrase');
    expect(await runExportShareCommand({ keystore: key.keystores[0]!, keyId: key.keyId, out }, captureIo().io)).toBe(ExitCode.OK);
    const exporter = (await openTestKeystore(key.keystores[0]!)).publicKey;
    const target = join(sandbox.dir.path, 'new-identity');
    await runInitCommand({ keystore: target }, captureIo().io);
    const importer = (await openTestKeystore(target)).publicKey;

    const refused = captureIo();
    expect(await runImportShareCommand({ keystore: target, in: out }, refused.io)).toBe(ExitCode.ERROR);
    expect(refused.err).toEqual([
      `error: the backup of key ${key.keyId} was made by identity ${exporter}, not by this keystore's identity ${importer}; ` +
        'pass --force to import it anyway (a deliberate move to a new identity)',
    ]);
    expect(await (await openTestKeystore(target)).findShare(key.keyId)).toBeNull();

    const forced = captureIo();
    expect(await runImportShareCommand({ keystore: target, in: out, force: true }, forced.io)).toBe(ExitCode.OK);
    expect(JSON.parse(forced.out.join('\n'))).toMatchObject({ identity: importer, exportedBy: exporter, forced: true });
    expect(forced.err.join('\n')).toMatch(new RegExp(`warning: --force: imported the share of key ${key.keyId}, backed up by identity ${exporter}, into this keystore's identity ${importer}`));
    expect((await (await openTestKeystore(target)).readShare(key.keyId)).signingShare).toBe(key.secretShares[key.identifiers[0]!]);
    expect(importShareCommand().options.map((o) => o.long)).toContain('--force');
  });

  it('import-share refuses a keystore another process holds (exit 5) and writes nothing', async () => {
    const key = await dealTestKey(sandbox.dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 2, withKeystores: 1 });
    const out = join(sandbox.dir.path, 'backup.json');
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'export passphrase');
    // export-share only reads the keystore: it works while a node holds it
    const lock = await lockKeystore(key.keystores[0]!);
    try {
      expect(await runExportShareCommand({ keystore: key.keystores[0]!, keyId: key.keyId, out }, captureIo().io)).toBe(ExitCode.OK);
      await (await openTestKeystore(key.keystores[0]!)).removeShare(key.keyId);
      const held = captureIo();
      expect(await runImportShareCommand({ keystore: key.keystores[0]!, in: out }, held.io)).toBe(ExitCode.KEYSTORE_IN_USE);
      expect(held.err).toEqual([`error: keystore ${key.keystores[0]!} is already in use by this process (pid ${process.pid})`]);
      expect(await (await openTestKeystore(key.keystores[0]!)).findShare(key.keyId)).toBeNull();
    } finally {
      await lock.release();
    }
    expect(await runImportShareCommand({ keystore: key.keystores[0]!, in: out }, captureIo().io)).toBe(ExitCode.OK);
  });
});

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { dealTestKey, openTestKeystore } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { ExitCode } from '../cli-io.js';
import { captureIo, useCommandSandbox } from './cli-test-support.js';
import { runInitCommand } from './init.command.js';
import { runExportShareCommand, runImportShareCommand } from './share-backup.command.js';


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

    const target = join(sandbox.dir.path, 'restored');
    await runInitCommand({ keystore: target }, captureIo().io);
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'not the export passphrase');
    const wrong = captureIo();
    expect(await runImportShareCommand({ keystore: target, in: out }, wrong.io)).toBe(ExitCode.ERROR);
    expect(wrong.err.join('\n')).toMatch(/wrong passphrase/);
    vi.stubEnv('ROUNDTABLE_EXPORT_PASSPHRASE', 'export passphrase');
    const imported = captureIo();
    expect(await runImportShareCommand({ keystore: target, in: out }, imported.io)).toBe(ExitCode.OK);
    expect((await (await openTestKeystore(target)).readShare(key.keyId)).signingShare).toBe(key.secretShares[key.identifiers[0]!]);
  });
});

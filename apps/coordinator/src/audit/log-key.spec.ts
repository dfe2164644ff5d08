import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesToHex } from '#crypto';
import { auditLogKeyPath, loadAuditLogKey } from './log-key.js';

describe('audit log key', () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'roundtable-logkey-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));
  const cfg = (over: { auditLogKeyFile?: string; dataDir?: string } = {}) => ({
    auditLogKeyFile: over.auditLogKeyFile,
    dataDir: over.dataDir ?? dir,
    auditLogOrigin: 'roundtable/test/audit',
    auditCheckpointIntervalMs: 0,
  });

  it('creates DATA_DIR/audit-log.key (0600) on first start and reads the same key afterwards', async () => {
    const first = loadAuditLogKey(cfg());
    const path = join(dir, 'audit-log.key');
    expect(auditLogKeyPath(cfg())).toBe(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toBe(bytesToHex(first.secretKey));
    const again = loadAuditLogKey(cfg());
    expect(bytesToHex(again.publicKey)).toBe(bytesToHex(first.publicKey));
    expect(again.keyName).toBe('roundtable/test/audit');
  });

  it('creates the directories it needs 0700 (whatever the umask) and the key 0600, and leaves an existing directory alone', async () => {
    const previous = process.umask(0o022);
    try {
      const file = join(dir, 'new', 'keys', 'log.key');
      loadAuditLogKey(cfg({ auditLogKeyFile: file }));
      for (const d of [join(dir, 'new'), join(dir, 'new', 'keys')]) expect((await stat(d)).mode & 0o777, d).toBe(0o700);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const fresh = join(dir, 'data');
      loadAuditLogKey(cfg({ dataDir: fresh }));
      expect((await stat(fresh)).mode & 0o777).toBe(0o700);
      expect((await stat(join(fresh, 'audit-log.key'))).mode & 0o777).toBe(0o600);
      await chmod(dir, 0o750);
      loadAuditLogKey(cfg({ auditLogKeyFile: join(dir, 'other.key') }));
      expect((await stat(dir)).mode & 0o777).toBe(0o750);
    } finally {
      process.umask(previous);
    }
  });

  it('uses AUDIT_LOG_KEY_FILE when given, refuses a malformed file, and keeps no file in memory mode', async () => {
    const file = join(dir, 'keys', 'log.key');
    loadAuditLogKey(cfg({ auditLogKeyFile: file }));
    expect((await stat(file)).isFile()).toBe(true);
    await writeFile(file, 'not a key\n');
    expect(() => loadAuditLogKey(cfg({ auditLogKeyFile: file }))).toThrow(/32-byte Ed25519 seed/);
    expect(auditLogKeyPath(cfg({ dataDir: 'memory://x' }))).toBeNull();
    expect(loadAuditLogKey(cfg({ dataDir: 'memory://x' })).publicKey).toHaveLength(32);
  });
});

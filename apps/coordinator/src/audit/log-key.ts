import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { AuditLogKey } from '#domain';
import { bytesToHex, hexToBytes } from '#crypto';
import type { CoordinatorConfig } from '../config/coordinator-config.js';

export class AuditLogKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLogKeyError';
  }
}

/**
 * Creates `dir` and any missing parent, each 0700 whatever the umask (so no other user can list or
 * replace the key's directory: with DATABASE_URL or AUDIT_LOG_KEY_FILE no one else creates it). A
 * directory that already exists is the operator's and keeps its mode.
 */
function makeOwnerOnlyDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    chmodSync(d, 0o700);
    if (d === first || dirname(d) === d) return;
  }
}

/** Where the log key lives: AUDIT_LOG_KEY_FILE, else DATA_DIR/audit-log.key (none with an in-memory DATA_DIR). */
export function auditLogKeyPath(config: Pick<CoordinatorConfig, 'auditLogKeyFile' | 'dataDir'>): string | null {
  if (config.auditLogKeyFile) return config.auditLogKeyFile;
  return config.dataDir.startsWith('memory://') ? null : join(config.dataDir, 'audit-log.key');
}

/**
 * The coordinator's transparency-log key: a 32-byte Ed25519 seed, hex, one line. Created (mode 0600, in
 * directories it creates 0700) on first start when the file is absent; a throwaway key when DATA_DIR is in
 * memory and no file is named.
 */
export function loadAuditLogKey(
  config: Pick<CoordinatorConfig, 'auditLogKeyFile' | 'dataDir' | 'auditLogOrigin' | 'auditCheckpointIntervalMs'> & Partial<Pick<CoordinatorConfig, 'auditWitnessIntervalMs'>>,
): AuditLogKey {
  const path = auditLogKeyPath(config);
  let secretKey: Uint8Array;
  if (path === null) {
    secretKey = ed25519.utils.randomSecretKey();
  } else {
    let text: string | null = null;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === null) {
      secretKey = ed25519.utils.randomSecretKey();
      makeOwnerOnlyDir(dirname(path));
      writeFileSync(path, `${bytesToHex(secretKey)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } else {
      const hex = text.trim();
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new AuditLogKeyError(`${path}: expected a 32-byte Ed25519 seed in hex`);
      secretKey = hexToBytes(hex);
    }
  }
  return {
    origin: config.auditLogOrigin,
    keyName: config.auditLogOrigin,
    secretKey,
    publicKey: ed25519.getPublicKey(secretKey),
    checkpointIntervalMs: config.auditCheckpointIntervalMs,
    witnessIntervalMs: config.auditWitnessIntervalMs ?? 0,
  };
}

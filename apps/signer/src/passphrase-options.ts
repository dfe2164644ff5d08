import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { KDF_COSTS, SignerError, type KdfCost } from '#signer';

/** The keystore passphrase, when no --passphrase-file is given. */
export const PASSPHRASE_ENV = 'ROUNDTABLE_PASSPHRASE';
/** The passphrase of share export files, when no --export-passphrase-file is given. */
export const EXPORT_PASSPHRASE_ENV = 'ROUNDTABLE_EXPORT_PASSPHRASE';
/**
 * scrypt cost for new keystores and export files: unset or `default` (strong), or `test`: FOR TESTS
 * AND DEMOS ONLY, it makes a stolen keystore cheap to brute-force. Opening reads the cost from the file.
 */
export const KDF_COST_ENV = 'ROUNDTABLE_KDF_COST';

export const passphraseFileOption = (): Option =>
  new Option('--passphrase-file <path>', `file holding the keystore passphrase (default: $${PASSPHRASE_ENV})`);

export const exportPassphraseFileOption = (): Option =>
  new Option('--export-passphrase-file <path>', `file holding the export file's passphrase (default: $${EXPORT_PASSPHRASE_ENV})`);

/**
 * The passphrase from `file` (one trailing newline ignored) or else from the environment variable.
 * A missing or empty one is an error naming both ways to give it.
 */
export async function resolvePassphrase(
  source: { file?: string | undefined; envName: string; flag: string; what: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  let passphrase: string | undefined;
  if (source.file !== undefined) {
    try {
      passphrase = (await readFile(source.file, 'utf8')).replace(/\r?\n$/, '');
    } catch (e) {
      throw new SignerError('PASSPHRASE_MISSING', `cannot read ${source.flag} ${source.file}: ${(e as Error).message}`, { cause: e });
    }
  } else {
    passphrase = env[source.envName];
  }
  if (!passphrase) {
    throw new SignerError(
      'PASSPHRASE_MISSING',
      `${source.what} is required and must not be empty: set ${source.envName} or pass ${source.flag} <path>`,
    );
  }
  return passphrase;
}

export const keystorePassphrase = (file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> =>
  resolvePassphrase({ file, envName: PASSPHRASE_ENV, flag: '--passphrase-file', what: 'the keystore passphrase' }, env);

export const exportPassphrase = (file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> =>
  resolvePassphrase({ file, envName: EXPORT_PASSPHRASE_ENV, flag: '--export-passphrase-file', what: 'the export passphrase' }, env);

/** The scrypt cost the environment asks for (see KDF_COST_ENV). */
export function kdfCostFromEnv(env: NodeJS.ProcessEnv = process.env): KdfCost {
  const name = env[KDF_COST_ENV];
  if (name === undefined || name === '' || name === 'default') return KDF_COSTS.default;
  if (name === 'test') return KDF_COSTS.test;
  throw new SignerError('INVALID_CONFIG', `${KDF_COST_ENV} must be "default" or "test", not ${JSON.stringify(name)}`);
}

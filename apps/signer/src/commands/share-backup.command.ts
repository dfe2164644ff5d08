import { Command } from 'commander';
import { exportShare, importShare } from '#signer';
import { ExitCode, printJson, processIo, reportError, type CliIo } from '../cli-io.js';
import {
  exportPassphrase,
  exportPassphraseFileOption,
  kdfCostFromEnv,
  keystorePassphrase,
  passphraseFileOption,
} from '../passphrase-options.js';

export interface ExportShareCommandOptions {
  keystore: string;
  keyId: string;
  out: string;
  passphraseFile?: string;
  exportPassphraseFile?: string;
}

export interface ImportShareCommandOptions {
  keystore: string;
  in: string;
  passphraseFile?: string;
  exportPassphraseFile?: string;
  /** Import a backup made by another identity (a deliberate move of the share to this keystore's). */
  force?: boolean;
}

/** Writes one share, encrypted under the export passphrase, to a new file; prints `{keyId, out}`. */
export async function runExportShareCommand(options: ExportShareCommandOptions, io: CliIo = processIo): Promise<number> {
  try {
    printJson(
      io,
      await exportShare({
        keystore: options.keystore,
        passphrase: await keystorePassphrase(options.passphraseFile),
        exportPassphrase: await exportPassphrase(options.exportPassphraseFile),
        keyId: options.keyId,
        out: options.out,
        kdfCost: kdfCostFromEnv(),
      }),
    );
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

/** Stores a share from an export file in the keystore; prints `{keyId, keystore, identity, exportedBy, forced}`. */
export async function runImportShareCommand(options: ImportShareCommandOptions, io: CliIo = processIo): Promise<number> {
  try {
    const result = await importShare({
      keystore: options.keystore,
      passphrase: await keystorePassphrase(options.passphraseFile),
      exportPassphrase: await exportPassphrase(options.exportPassphraseFile),
      in: options.in,
      force: options.force ?? false,
    });
    if (result.forced) {
      io.stderr(
        `warning: --force: imported the share of key ${result.keyId}, backed up by ` +
          `${result.exportedBy === null ? 'an unrecorded identity' : `identity ${result.exportedBy}`}, into this keystore's identity ${result.identity}`,
      );
    }
    printJson(io, result);
    return ExitCode.OK;
  } catch (e) {
    return reportError(io, e);
  }
}

export function exportShareCommand(): Command {
  return new Command('export-share')
    .description('write a backup of one share, encrypted under a separate export passphrase (file mode 0600)')
    .requiredOption('--keystore <dir>', 'keystore directory')
    .requiredOption('--key-id <uuid>', 'the key whose share to export')
    .requiredOption('--out <file>', 'the backup file to create (never overwritten)')
    .addOption(passphraseFileOption())
    .addOption(exportPassphraseFileOption())
    .action(async (options: ExportShareCommandOptions) => {
      process.exitCode = await runExportShareCommand(options);
    });
}

export function importShareCommand(): Command {
  return new Command('import-share')
    .description('restore a share from a backup made by export-share (refuses a key the keystore holds, and a backup of another identity)')
    .requiredOption('--keystore <dir>', 'keystore directory')
    .requiredOption('--in <file>', 'the backup file')
    .addOption(passphraseFileOption())
    .addOption(exportPassphraseFileOption())
    .option('--force', "import a backup made by another identity than this keystore's (a deliberate move to a new identity)", false)
    .action(async (options: ImportShareCommandOptions) => {
      process.exitCode = await runImportShareCommand(options);
    });
}

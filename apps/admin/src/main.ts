import { CommanderError } from 'commander';
import { ApiError } from '#sdk';
import { buildAdminProgram } from './program.js';

const program = buildAdminProgram({
  out: (text) => process.stdout.write(`${text}\n`),
  progress: (text) => process.stderr.write(`${text}\n`),
  setExitCode: (code) => (process.exitCode = code),
});

program.parseAsync(process.argv).catch((e: unknown) => {
  // Help, --version and usage errors: commander has printed what it had to say.
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof ApiError) {
    process.stderr.write(`roundtable-admin: ${e.code}: ${e.message}\n`);
    process.exit(e.status === 0 ? 2 : 1);
  }
  process.stderr.write(`roundtable-admin: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

import { readFileSync } from 'node:fs';
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';
import { signerVersion } from './version.js';

/**
 * The signer CLI's own help and version (issue 8 §5: every CLI command has help text and `--version`),
 * run in-process the way main.ts runs it, with commander's exits turned into exceptions and its output
 * captured, so no test ends the process or writes to the terminal.
 */

interface Run {
  out: string;
  err: string;
  exitCode: number;
}

/** Subcommands added with `addCommand` keep their own exit and output settings, so each is set here. */
function captured(command: Command, out: string[], err: string[]): Command {
  command.exitOverride().configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void err.push(s) });
  for (const sub of command.commands) captured(sub, out, err);
  return command;
}

async function signer(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  try {
    await captured(buildProgram(), out, err).parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  }
  return { out: out.join(''), err: err.join(''), exitCode };
}

/** Every command of the program, as the argument path that names it. */
const commandPaths = (command: Command, path: string[] = []): string[][] =>
  command.commands.flatMap((c) => [[...path, c.name()], ...commandPaths(c, [...path, c.name()])]);

const commandAt = (program: Command, path: string[]): Command =>
  path.reduce<Command>((c, name) => c.commands.find((s) => s.name() === name)!, program);

describe('signer CLI: version and help', () => {
  it('--version (and -V) prints the package.json version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(signerVersion()).toBe(pkg.version);
    for (const flag of ['--version', '-V']) {
      const run = await signer([flag]);
      expect([run.exitCode, run.out.trim()]).toEqual([0, pkg.version]);
    }
  });

  it('falls back to 0.0.0 where no roundtable package.json is above', () => {
    expect(signerVersion('/')).toBe('0.0.0');
  });

  it('--help lists every command with its description', async () => {
    const program = buildProgram();
    const run = await signer(['--help']);
    expect(run.exitCode).toBe(0);
    expect(run.out).toContain('-V, --version');
    for (const command of program.commands) {
      expect(run.out, command.name()).toContain(command.name());
      expect(run.out.replace(/\s+/g, ' '), command.name()).toContain(command.summary() || command.description());
    }
  });

  it('every command, option and argument has a description, and --help on each prints it', async () => {
    const program = buildProgram();
    const paths = commandPaths(program);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['init'],
        ['identity'],
        ['run'],
        ['approvals', 'list'],
        ['approvals', 'reject'],
        ['grants', 'revoke'],
        ['dealer'],
        ['export-share'],
        ['import-share'],
      ]),
    );
    for (const path of paths) {
      const name = path.join(' ');
      const command = commandAt(program, path);
      expect(command.description(), name).not.toBe('');
      for (const option of command.options) {
        if (!option.hidden) expect(option.description, `${name} ${option.flags}`).not.toBe('');
      }
      for (const argument of command.registeredArguments) expect(argument.description, `${name} <${argument.name()}>`).not.toBe('');
      const help = await signer([...path, '--help']);
      expect(help.exitCode, name).toBe(0);
      const text = help.out.replace(/\s+/g, ' ');
      expect(text, name).toContain(`Usage: signer ${name}`);
      expect(text, name).toContain(command.description().replace(/\s+/g, ' '));
    }
    for (const option of program.options) expect(option.description, option.flags).not.toBe('');
  });

  it('help <command> prints that command\'s help', async () => {
    const run = await signer(['help', 'init']);
    expect(run.exitCode).toBe(0);
    expect(run.out).toContain('Usage: signer init');
  });
});

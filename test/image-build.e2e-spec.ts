import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** What the Dockerfile's build stage copies into the image before `npm run build`. */
function dockerBuildCopies(): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const build = dockerfile.split(/^FROM /m)[1] ?? '';
  return [...build.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => {
    const parts = m[1]!.trim().split(/\s+/);
    return parts.slice(0, -1);
  });
}

/** The Docker image builds from what it copies: nothing it compiles may come from test/ or test helpers. */
describe('the Docker image build', () => {
  it('no file under libs/ or apps/ imports from test/', () => {
    const offenders: string[] = [];
    for (const file of [...sources('libs'), ...sources('apps')]) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = relative(root, resolve(dirname(join(root, file)), m[1]!));
        if (target.split(sep)[0] === 'test') offenders.push(`${file} -> ${m[1]!}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('`npm run build` compiles no spec, test helper or test/ file, and only files the Dockerfile copies', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--listFilesOnly'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    const compiled = stdout
      .split('\n')
      .filter((f) => f.length > 0 && !f.includes(`${sep}node_modules${sep}`))
      .map((f) => relative(root, f));
    expect(compiled.length).toBeGreaterThan(50);
    const testOnly = compiled.filter((f) => /(^|\/)(test|testing)\/|\.spec\.ts$|\.e2e-spec\.ts$|test-support\.ts$/.test(f.split(sep).join('/')));
    expect(testOnly).toEqual([]);
    const copied = dockerBuildCopies();
    const missing = compiled.filter((f) => !copied.some((c) => f === c || f.startsWith(`${c}${sep}`)));
    expect(missing).toEqual([]);
  });

  it('gives the image a data directory its user owns, and points DATA_DIR there', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.split(/^FROM /m)[2] ?? '';
    expect(runtime).toMatch(/^ENV .*\bDATA_DIR=\/app\/data\b/m);
    expect(runtime).toMatch(/^RUN mkdir -p \/app\/data && chown node:node \/app\/data$/m);
    expect(runtime.indexOf('chown node:node /app/data')).toBeLessThan(runtime.indexOf('USER node'));
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** The example's README regions, each without its common indentation and without the marker lines. */
function readmeRegions(source: string): string[] {
  const regions = [...source.matchAll(/^[ \t]*\/\/ README:begin\n([\s\S]*?)^[ \t]*\/\/ README:end$/gm)].map((m) => m[1]!.trimEnd());
  return regions.map((region) => {
    const lines = region.split('\n');
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
    return lines.map((l) => l.slice(indent)).join('\n');
  });
}

describe('the README shows the agent example as it is', () => {
  it('every README region of agent-example.ts appears verbatim in README.md', () => {
    const regions = readmeRegions(read('./agent-example.ts'));
    expect(regions.length).toBe(2);
    const readme = read('../../../README.md');
    for (const region of regions) expect(readme).toContain(region);
  });
});

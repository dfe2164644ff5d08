import { describe, expect, it } from 'vitest';
import { parseDemoArgs, untilStopSignal } from './demo-options.js';

describe('the demo command line', () => {
  it('takes --keep-running, nothing else', () => {
    expect(parseDemoArgs([])).toEqual({ keepRunning: false });
    expect(parseDemoArgs(['--keep-running'])).toEqual({ keepRunning: true });
    expect(() => parseDemoArgs(['--keep-runing'])).toThrow(/unknown argument --keep-runing/);
  });

  it('waits for SIGINT or SIGTERM, then removes its handlers', async () => {
    const before = process.listenerCount('SIGINT');
    const waiting = untilStopSignal();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGTERM');
    await expect(waiting).resolves.toBe('SIGTERM');
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before, before]);
  });
});

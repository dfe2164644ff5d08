import { describe, expect, it } from 'vitest';
import { SignerError } from '../signer-error.js';
import { FailoverSchedule } from './failover-schedule.js';

const URLS = ['ws://a/v1/nodes/ws', 'ws://b/v1/nodes/ws', 'ws://c/v1/nodes/ws'];
/** random() = 1: every delay is its base, the top of the jitter range. */
const top = () => 1;

/** Fails `count` attempts in a row: the URL each went to and the delay scheduled after it. */
function failMany(schedule: FailoverSchedule, count: number): { url: string; delay: number }[] {
  return Array.from({ length: count }, () => {
    const url = schedule.url;
    return { url, delay: schedule.advance() };
  });
}

describe('FailoverSchedule', () => {
  it('goes round robin from the first URL; the delay doubles only after a whole round failed, up to maxMs', () => {
    const schedule = new FailoverSchedule(URLS, { initialMs: 100, maxMs: 300 }, top);
    const attempts = failMany(schedule, 12);
    expect(attempts.map((a) => a.url)).toEqual([...URLS, ...URLS, ...URLS, ...URLS]);
    expect(attempts.map((a) => a.delay)).toEqual([100, 100, 100, 100, 100, 200, 100, 100, 300, 100, 100, 300]);
  });

  it('with one URL, backs off as a single coordinator always did: doubling from the first failure', () => {
    const schedule = new FailoverSchedule([URLS[0]!], { initialMs: 100, maxMs: 1_000 }, top);
    expect(failMany(schedule, 6).map((a) => a.delay)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('after an authenticated connection closes, the next URL comes at the initial delay, however long the outage was', () => {
    const schedule = new FailoverSchedule(URLS.slice(0, 2), { initialMs: 100, maxMs: 10_000 }, top);
    failMany(schedule, 7); // three and a half rounds: the next round would wait 800
    expect(schedule.url).toBe(URLS[1]);
    schedule.authenticated();
    expect(schedule.advance()).toBe(100);
    expect(schedule.url).toBe(URLS[0]);
    // and a round that fails after that starts the doubling over
    expect(schedule.advance()).toBe(100);
    expect(schedule.advance()).toBe(100);
    expect(schedule.advance()).toBe(200);
  });

  it('keeps every delay within [base/2, base]', () => {
    const low = new FailoverSchedule(URLS.slice(0, 1), { initialMs: 100, maxMs: 1_000 }, () => 0);
    expect(failMany(low, 3).map((a) => a.delay)).toEqual([50, 100, 200]);
    const random = new FailoverSchedule(URLS, { initialMs: 100, maxMs: 1_000 });
    for (const { delay } of failMany(random, 30)) {
      expect(delay).toBeGreaterThanOrEqual(50);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
  });

  it('drops a URL from the rotation; none left: undefined', () => {
    const schedule = new FailoverSchedule(URLS, { initialMs: 100, maxMs: 1_000 }, top);
    expect(schedule.advance()).toBe(100); // a failed: on to b
    // b is a wrong path: on to c; the rotation is now a and c, both of which failed: a round ended
    expect(schedule.drop()).toBe(100);
    expect(schedule.url).toBe(URLS[2]);
    expect(schedule.size).toBe(2);
    expect(schedule.advance()).toBe(100);
    expect(schedule.url).toBe(URLS[0]);
    // a goes too: c alone, and its round (the second) ended with this failure
    expect(schedule.drop()).toBe(200);
    expect(schedule.url).toBe(URLS[2]);
    expect(schedule.drop()).toBeUndefined();
    expect(schedule.size).toBe(0);
  });

  it('refuses an empty list and bad delays', () => {
    expect(() => new FailoverSchedule([], { initialMs: 100, maxMs: 1_000 })).toThrow(SignerError);
    expect(() => new FailoverSchedule(URLS, { initialMs: 0, maxMs: 1_000 })).toThrow(/initialMs/);
    expect(() => new FailoverSchedule(URLS, { initialMs: 200, maxMs: 100 })).toThrow(/initialMs/);
  });
});

/**
 * Named deadline timers for a service (a request's expiry, an attempt's or a ceremony round's deadline).
 * Each fires at an absolute time, re-armed in steps past setTimeout's 2^31-1 ms limit; a task that fails
 * (the database is down, say) is retried a second later; `stop` cancels everything for good.
 */
export class DeadlineTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly onError: (name: string, error: unknown) => void) {}

  /** Runs `task` at `at`, replacing any timer of the same name. */
  schedule(name: string, at: Date, task: () => Promise<void>): void {
    if (this.stopped) return;
    this.clear(name);
    const delay = Math.max(0, Math.min(at.getTime() - Date.now(), 2 ** 31 - 1));
    const timer = setTimeout(() => {
      this.timers.delete(name);
      if (Date.now() < at.getTime()) return this.schedule(name, at, task);
      task().catch((e: unknown) => {
        this.onError(name, e);
        this.schedule(name, new Date(Date.now() + 1000), task);
      });
    }, delay);
    this.timers.set(name, timer);
  }

  clear(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

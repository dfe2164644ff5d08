/** An async mutex that hands the lock to waiters in the order they asked for it. */
export class FifoMutex {
  private locked = false;
  private readonly waiters: { grant: () => void; refuse: (error: Error) => void }[] = [];

  get isLocked(): boolean {
    return this.locked;
  }

  /** Resolves once the caller holds the lock; it must then call `release` exactly once. */
  acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise((grant, refuse) => this.waiters.push({ grant, refuse }));
  }

  /** Passes the lock to the next waiter (it stays locked) or unlocks. */
  release(): void {
    if (!this.locked) throw new Error('FifoMutex released while not locked');
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.locked = false;
  }

  /** Fails every pending `acquire`; the current holder keeps the lock. */
  refuseWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.refuse(error);
  }
}

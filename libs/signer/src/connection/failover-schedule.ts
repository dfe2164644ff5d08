import { SignerError } from '../signer-error.js';

export interface ReconnectOptions {
  /** The delay before trying the next instance; the first delay after a round in which every instance failed. */
  initialMs: number;
  /** Longest delay between two connection attempts. */
  maxMs: number;
}

/**
 * Where the node's next connection attempt goes, and how long it waits first, over the coordinator's
 * instances (one URL each; one URL is the single-instance case). Round robin from the first URL: every
 * connection that fails or closes moves on to the next URL. Within a round the wait stays at the initial
 * delay, so that a dead instance costs the node little when another is up; only a round in which every
 * URL failed doubles the wait before the next one (to maxMs). A connection that authenticates starts the
 * count over, so the first retry after it goes to the next instance at the initial delay. Every delay
 * carries jitter (a random value in [base/2, base]) so that nodes dropped together do not return together.
 */
export class FailoverSchedule {
  private readonly urls: string[];
  private index = 0;
  /** Failed attempts in the current round. */
  private failedInRound = 0;
  /** Whole rounds that failed since the last authentication: the exponent of the backoff. */
  private failedRounds = 0;

  constructor(
    urls: readonly string[],
    private readonly reconnect: ReconnectOptions,
    private readonly random: () => number = Math.random,
  ) {
    const { initialMs, maxMs } = reconnect;
    if (!(initialMs > 0 && maxMs >= initialMs)) throw new SignerError('INVALID_CONFIG', 'reconnect delays must satisfy 0 < initialMs <= maxMs');
    if (urls.length === 0) throw new SignerError('INVALID_CONFIG', 'at least one coordinator URL is needed');
    this.urls = [...urls];
  }

  /** The URL the next (or current) attempt goes to. */
  get url(): string {
    return this.urls[this.index]!;
  }

  /** How many URLs are left in the rotation. */
  get size(): number {
    return this.urls.length;
  }

  /** The connection to `url` authenticated: the next failure starts a fresh round. */
  authenticated(): void {
    this.failedInRound = 0;
    this.failedRounds = 0;
  }

  /** The connection to `url` failed or closed: moves on to the next URL; the delay before trying it. */
  advance(): number {
    this.index = (this.index + 1) % this.urls.length;
    return this.countFailure();
  }

  /**
   * `url` answered that it is not the node endpoint, which retrying cannot change: it leaves the rotation.
   * The delay before trying the next URL, or undefined when none is left.
   */
  drop(): number | undefined {
    this.urls.splice(this.index, 1);
    if (this.urls.length === 0) return undefined;
    this.index %= this.urls.length;
    return this.countFailure();
  }

  private countFailure(): number {
    const { initialMs, maxMs } = this.reconnect;
    let base = initialMs;
    this.failedInRound++;
    if (this.failedInRound >= this.urls.length) {
      base = Math.min(maxMs, initialMs * 2 ** Math.min(this.failedRounds, 30));
      this.failedInRound = 0;
      this.failedRounds++;
    }
    return Math.round(base / 2 + (this.random() * base) / 2);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { STORE, type Store } from '#domain';

/** The latest signed checkpoint of the audit log, as the metrics read it. */
export interface CheckpointGauge {
  /** The newest checkpoint: its tree size and when it was issued; null while there is none. */
  latest(): Promise<{ size: number; issuedAt: Date } | null>;
}

/**
 * Bound by the audit log's checkpoint feature when it exists (helper T, issue 11 section 1); the
 * metrics module injects it optionally and leaves the checkpoint gauges out without it.
 */
export const CHECKPOINT_GAUGE = Symbol('CHECKPOINT_GAUGE');

/**
 * The number of entries in the audit log, read by following its tail: each scrape reads only the entries
 * appended since the last one (the log is append-only, seq has no gaps), so a scrape costs one small
 * query however long the log is. The first scrape of a process walks the log once, in batches.
 */
@Injectable()
export class AuditLogLength {
  private lastSeq = 0;
  private reading: Promise<number> | null = null;

  constructor(@Inject(STORE) private readonly store: Store) {}

  /** The highest seq in the log (= its length: seq starts at 1). Concurrent scrapes share one read. */
  entries(): Promise<number> {
    this.reading ??= this.follow().finally(() => (this.reading = null));
    return this.reading;
  }

  private async follow(): Promise<number> {
    for (;;) {
      const batch = await this.store.read.audit.listAfter(this.lastSeq, 1000);
      if (batch.length === 0) return this.lastSeq;
      this.lastSeq = batch[batch.length - 1]!.seq;
      if (batch.length < 1000) return this.lastSeq;
    }
  }
}

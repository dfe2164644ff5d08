import { Inject, Injectable } from '@nestjs/common';
import { ChainVerifier, type ChainVerdict } from '#audit';
import { STORE, type AuditFilter, type Store } from '../ports.js';
import type { AuditEntry } from '../records.js';

@Injectable()
export class AuditService {
  constructor(@Inject(STORE) private readonly store: Store) {}

  query(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.store.read.audit.query(filter);
  }

  /** Recomputes the whole chain from the first entry, in batches; names the first broken link. */
  async verify(batchSize = 1000): Promise<ChainVerdict> {
    const verifier = new ChainVerifier();
    let after = 0;
    for (;;) {
      const batch = await this.store.read.audit.listAfter(after, batchSize);
      for (const entry of batch) {
        if (!verifier.push(entry)) return verifier.result();
      }
      if (batch.length < batchSize) return verifier.result();
      after = batch[batch.length - 1]!.seq;
    }
  }
}

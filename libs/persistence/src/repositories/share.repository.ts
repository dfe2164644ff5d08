import type { EntityManager } from 'typeorm';
import type { ShareRecord, ShareRepository } from '#domain';
import { SignatureShareEntity } from '../entities/signature-share.entity.js';
import { expectOneRow } from './repository-support.js';

export class TypeOrmShareRepository implements ShareRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(share: ShareRecord): Promise<void> {
    await this.manager.insert(SignatureShareEntity, share);
  }

  async setValidity(requestId: string, attemptId: string, nodeId: string, valid: boolean): Promise<void> {
    const result = await this.manager.update(SignatureShareEntity, { requestId, attemptId, nodeId }, { valid });
    expectOneRow(result, `share of node ${nodeId} in attempt ${attemptId}`);
  }
}

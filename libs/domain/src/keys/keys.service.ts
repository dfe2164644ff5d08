import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { assertValidPublicPackage, CryptoValidationError, getSuite, groupPublicKey, type PublicKeyPackage } from '#crypto';
import { packageFits } from '#protocol';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { KeyRecord } from '../records.js';
import type { Actor } from '../common/tokens.js';

export interface RegisterKeyInput {
  id?: string;
  publicPackage: PublicKeyPackage;
  /** Which enrolled node holds which identifier. */
  members: { nodeId: string; identifier: string }[];
  origin: string;
}

/**
 * Registers the PUBLIC package of a threshold key. The coordinator never receives a secret share:
 * the package it stores is what any verifier may hold.
 */
@Injectable()
export class KeysService {
  constructor(@Inject(STORE) private readonly store: Store) {}

  async register(input: RegisterKeyInput, actor: Actor): Promise<KeyRecord> {
    const pkg = input.publicPackage;
    try {
      assertValidPublicPackage(pkg);
    } catch (e) {
      if (e instanceof CryptoValidationError) throw new DomainError('INVALID_KEY_PACKAGE', e.message);
      throw e;
    }
    if (!packageFits(1, pkg.threshold, getSuite(pkg.suite))) {
      throw new DomainError('INVALID_KEY_PACKAGE', `a signing package for ${pkg.threshold} signers would not fit in one frame`);
    }
    const identifiers = Object.keys(pkg.verifyingShares);
    const memberIds = new Set(input.members.map((m) => m.identifier));
    const nodeIds = new Set(input.members.map((m) => m.nodeId));
    if (input.members.length !== identifiers.length || memberIds.size !== identifiers.length || nodeIds.size !== identifiers.length) {
      throw new DomainError('INVALID_KEY_PACKAGE', 'each identifier must be held by exactly one distinct node');
    }
    for (const id of identifiers) {
      if (!memberIds.has(id)) throw new DomainError('INVALID_KEY_PACKAGE', `identifier ${id} has no member node`);
    }
    return this.store.transaction(async (tx) => {
      const id = input.id ?? randomUUID();
      if (await tx.keys.findById(id)) throw new DomainError('KEY_ALREADY_EXISTS', `key ${id} already exists`);
      for (const m of input.members) {
        const node = await tx.nodes.findById(m.nodeId);
        if (!node) throw new DomainError('NODE_NOT_FOUND', `member node ${m.nodeId} is not enrolled`);
        if (node.status !== 'active') throw new DomainError('NODE_REVOKED', `member node ${m.nodeId} is revoked`);
      }
      const key: KeyRecord = {
        id,
        suite: pkg.suite,
        threshold: pkg.threshold,
        maxSigners: pkg.maxSigners,
        groupPublicKey: groupPublicKey(pkg),
        publicPackage: pkg,
        members: input.members.map((m) => ({
          nodeId: m.nodeId,
          identifier: m.identifier,
          verifyingShare: pkg.verifyingShares[m.identifier]!,
        })),
        status: 'active',
        origin: input.origin,
        createdAt: new Date(),
      };
      await tx.keys.insert(key);
      await tx.audit.append({
        occurredAt: key.createdAt,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'key.registered',
        outcome: 'success',
        keyId: key.id,
        details: {
          suite: key.suite,
          threshold: key.threshold,
          maxSigners: key.maxSigners,
          groupPublicKey: key.groupPublicKey,
          origin: key.origin,
          members: key.members.map((m) => ({ nodeId: m.nodeId, identifier: m.identifier, verifyingShare: m.verifyingShare })),
        },
      });
      return key;
    });
  }

  async get(keyId: string): Promise<KeyRecord> {
    const key = await this.store.read.keys.findById(keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${keyId} not found`);
    return key;
  }

  list(): Promise<KeyRecord[]> {
    return this.store.read.keys.list();
  }
}

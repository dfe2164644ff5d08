import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { assertValidPublicPackage, CryptoValidationError, getSuite, groupPublicKey, type PublicKeyPackage } from '#crypto';
import { evmAuditDetails } from '#evm';
import { packageFits } from '#protocol';
import { DomainError } from '../errors.js';
import { STORE, type Repositories, type Store } from '../ports.js';
import type { KeyRecord } from '../records.js';
import { auditActor } from '../common/actor.js';
import type { Actor } from '../common/tokens.js';

export interface RegisterKeyInput {
  id?: string;
  publicPackage: PublicKeyPackage;
  /** Which enrolled node holds which identifier. */
  members: { nodeId: string; identifier: string }[];
  /** 'dealer', or `ceremony:<id>` for a key made by a distributed key generation. */
  origin: string;
}

/**
 * Checks a key's public package and its members without touching the database: valid elements,
 * consistent verifying shares, one distinct node per identifier. Throws INVALID_KEY_PACKAGE.
 */
export function assertRegistrable(input: RegisterKeyInput): void {
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
}

/**
 * Inserts a key (checked with `assertRegistrable` first) and its `key.registered` audit entry inside
 * the caller's transaction. The one path every key takes, from a dealer or a ceremony. For a
 * `secp256k1` key the entry says whether contracts can verify it (`evmUsable`, `evmAddress`, `evmReason`).
 */
export async function registerKeyInTransaction(tx: Repositories, input: RegisterKeyInput, actor: Actor): Promise<KeyRecord> {
  const pkg = input.publicPackage;
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
    action: 'key.registered',
    outcome: 'success',
    keyId: key.id,
    ...auditActor(actor, {
      suite: key.suite,
      threshold: key.threshold,
      maxSigners: key.maxSigners,
      groupPublicKey: key.groupPublicKey,
      origin: key.origin,
      members: key.members.map((m) => ({ nodeId: m.nodeId, identifier: m.identifier, verifyingShare: m.verifyingShare })),
      // A secp256k1 key whose x is not below n still signs off-chain: registered, but said so (issue 12).
      ...evmAuditDetails(key.suite, key.groupPublicKey),
    }),
  });
  return key;
}

/**
 * Registers the PUBLIC package of a threshold key. The coordinator never receives a secret share:
 * the package it stores is what any verifier may hold.
 */
@Injectable()
export class KeysService {
  constructor(@Inject(STORE) private readonly store: Store) {}

  async register(input: RegisterKeyInput, actor: Actor): Promise<KeyRecord> {
    assertRegistrable(input);
    return this.store.transaction((tx) => registerKeyInTransaction(tx, input, actor));
  }

  /** Retires a key: no new signing request may use it (KEY_RETIRED). Retiring a retired key changes nothing. */
  async retire(keyId: string, actor: Actor): Promise<KeyRecord> {
    return this.store.transaction(async (tx) => {
      const key = await tx.keys.findById(keyId);
      if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${keyId} not found`);
      if (key.status === 'retired') return key;
      const now = new Date();
      await tx.keys.setStatus(key.id, 'retired');
      await tx.audit.append({
        occurredAt: now,
        action: 'key.retired',
        outcome: 'success',
        keyId: key.id,
        ...auditActor(actor, { groupPublicKey: key.groupPublicKey, origin: key.origin }),
      });
      return { ...key, status: 'retired' as const };
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

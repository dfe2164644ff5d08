import type { KeyResponse } from '#api';
import type { KeyRecord } from '#domain';
import { evmKeyView } from '#evm';

export const toKeyDto = (key: KeyRecord): KeyResponse => ({
  id: key.id,
  suite: key.suite,
  threshold: key.threshold,
  maxSigners: key.maxSigners,
  groupPublicKey: key.groupPublicKey,
  members: key.members.map((m) => ({ nodeId: m.nodeId, identifier: m.identifier, verifyingShare: m.verifyingShare })),
  commitments: key.publicPackage.commitments,
  status: key.status,
  origin: key.origin,
  createdAt: key.createdAt.toISOString(),
  evm: evmKeyView(key.suite, key.groupPublicKey),
});

import { dealKey, type DealtKey, type SuiteId } from '#crypto';

/**
 * A trusted-dealer key for `nodeIds` (identifiers 1..n in that order) and the `POST /v1/keys` body that
 * registers its public package.
 */
export function dealtKeyRegistration(suite: SuiteId, threshold: number, nodeIds: string[]): { key: DealtKey; body: Record<string, unknown> } {
  const key = dealKey(suite, threshold, nodeIds.length);
  const identifiers = Object.keys(key.public.verifyingShares);
  return {
    key,
    body: {
      suite,
      threshold,
      maxSigners: nodeIds.length,
      commitments: key.public.commitments,
      verifyingShares: key.public.verifyingShares,
      members: nodeIds.map((nodeId, i) => ({ nodeId, identifier: identifiers[i] })),
    },
  };
}

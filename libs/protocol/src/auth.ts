/**
 * The bytes a node signs to authenticate: a domain tag, the coordinator's id and the challenge.
 * Binding the coordinator id stops a signature made for one coordinator from being replayed to another.
 *
 * A node that reports its policy hash (`auth.response.policyHash`) signs it too, under another domain tag:
 * a relay can then neither alter nor strip the report without the signature failing, and an older node,
 * which sends no hash, still signs (and is verified against) exactly the bytes it always did. The tags
 * differ before the first `\n`, so no transcript of one form is ever a transcript of the other.
 */
export function authTranscript(coordinatorId: string, challengeHex: string, policyHash?: string): Uint8Array {
  const text =
    policyHash === undefined
      ? `roundtable/v1/node-auth\n${coordinatorId}\n${challengeHex}`
      : `roundtable/v1/node-auth+policy\n${coordinatorId}\n${challengeHex}\n${policyHash}`;
  return new TextEncoder().encode(text);
}

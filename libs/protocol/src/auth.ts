/**
 * The bytes a node signs to authenticate: a domain tag, the coordinator's id and the challenge.
 * Binding the coordinator id stops a signature made for one coordinator from being replayed to another.
 */
export function authTranscript(coordinatorId: string, challengeHex: string): Uint8Array {
  return new TextEncoder().encode(`roundtable/v1/node-auth\n${coordinatorId}\n${challengeHex}`);
}

import type { Repositories } from '../ports.js';
import type { SigningRequestRecord } from '../records.js';

/**
 * True when `proposer` (`admin` or `principal:<id>`) may see and cancel the request: it proposed it, or it
 * proposed the session-key grant the request was made under (an agent's requests name the grant,
 * `grant:<id>`, as their proposer; the principal who proposed the grant answers for them).
 */
export async function isOwnedBy(repos: Repositories, request: SigningRequestRecord, proposer: string): Promise<boolean> {
  if (request.proposer === proposer) return true;
  if (!request.grantId) return false;
  return (await repos.grants.findById(request.grantId))?.proposer === proposer;
}

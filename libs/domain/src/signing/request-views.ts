import { DomainError } from '../errors.js';
import type { Repositories } from '../ports.js';
import { isOwnedBy } from './request-owner.js';
import type { AttemptRecord, KeyRecord, RequestStatus, SigningRequestRecord } from '../records.js';
import { loadDecisionViews, loadDecisionViewsOfPage, type DecisionView } from './decision-views.js';
import type { RequestView, ViewScope } from './signing-requests.service.js';

/** Which requests a list shows: newest first. */
export interface RequestListFilter {
  status?: RequestStatus;
  keyId?: string;
  /** Only this proposer's requests (`admin` or `principal:<id>`), and those under the grants it proposed. */
  proposer?: string;
  limit: number;
  offset: number;
}

const viewOf = (request: SigningRequestRecord, attempts: AttemptRecord[], key: KeyRecord | undefined | null, decisions: DecisionView[]): RequestView => ({
  request,
  attempts,
  groupPublicKey: key?.groupPublicKey ?? '',
  suite: key?.suite ?? '',
  decisions,
});

/**
 * One request with its attempts, its key's group key and each member's decision: REQUEST_NOT_FOUND when
 * there is none, or when `scope.proposer` does not own it (request-owner.ts) (another proposer's request is not told apart
 * from a missing one).
 */
export async function loadRequestView(repos: Repositories, requestId: string, scope: ViewScope = {}): Promise<RequestView> {
  const request = await repos.requests.findById(requestId);
  if (!request || (scope.proposer !== undefined && !(await isOwnedBy(repos, request, scope.proposer)))) {
    throw new DomainError('REQUEST_NOT_FOUND', `signing request ${requestId} not found`);
  }
  return viewOfRequest(repos, request);
}

/** The view of a request whose row the caller has read (and may show). */
export async function viewOfRequest(repos: Repositories, request: SigningRequestRecord): Promise<RequestView> {
  const [attempts, key] = await Promise.all([repos.attempts.listForRequest(request.id), repos.keys.findById(request.keyId)]);
  return viewOf(request, attempts, key, await loadDecisionViews(repos, request, key));
}

/**
 * A page of requests as views in a constant number of reads whatever the page size: the requests, then the
 * attempts of all of them and their keys, then their decisions (decision-views.ts), not one read per row.
 */
export async function listRequestViews(repos: Repositories, filter: RequestListFilter): Promise<RequestView[]> {
  const requests = await repos.requests.list(filter);
  if (requests.length === 0) return [];
  const [attempts, keys] = await Promise.all([
    repos.attempts.listForRequests(requests.map((r) => r.id)),
    repos.keys.findByIds([...new Set(requests.map((r) => r.keyId))]),
  ]);
  const attemptsOf = new Map<string, AttemptRecord[]>();
  for (const a of attempts) attemptsOf.set(a.requestId, [...(attemptsOf.get(a.requestId) ?? []), a]);
  const keyOf = new Map(keys.map((k) => [k.id, k]));
  const decisionsOf = await loadDecisionViewsOfPage(
    repos,
    requests.map((request) => ({ request, key: keyOf.get(request.keyId) ?? null })),
  );
  return requests.map((r) =>
    viewOf(r, (attemptsOf.get(r.id) ?? []).sort((a, b) => a.seq - b.seq), keyOf.get(r.keyId), decisionsOf.get(r.id) ?? []),
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The signed bytes as text, for a request whose encoding is utf8 and whose bytes are valid UTF-8 (they
 * always are when the coordinator encoded them); null otherwise. Only shown beside the hex, never signed.
 */
export function messageTextOf(request: Pick<SigningRequestRecord, 'message' | 'messageEncoding'>): string | null {
  if (request.messageEncoding !== 'utf8') return null;
  try {
    return strictUtf8.decode(Buffer.from(request.message, 'hex'));
  } catch {
    return null;
  }
}

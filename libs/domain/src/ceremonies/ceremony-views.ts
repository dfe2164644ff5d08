import { DomainError } from '../errors.js';
import type { Repositories } from '../ports.js';
import type { CeremonyRecord, CeremonyStatus } from '../records.js';
import type { CeremonyView } from './ceremony.service.js';

/** Which ceremonies a list shows: newest first. */
export interface CeremonyListFilter {
  status?: CeremonyStatus;
  limit: number;
  offset: number;
}

/** Views of `ceremonies` in two reads, whatever their number: round-2 senders and result senders of all. */
async function viewsOf(repos: Repositories, ceremonies: CeremonyRecord[]): Promise<CeremonyView[]> {
  if (ceremonies.length === 0) return [];
  const ids = ceremonies.map((c) => c.id);
  const [senders, results] = await Promise.all([repos.ceremonies.listRound2Senders(ids), repos.ceremonies.listResultSenders(ids)]);
  const group = <T>(rows: T[], of: (row: T) => string, value: (row: T) => string): Map<string, string[]> => {
    const byCeremony = new Map<string, string[]>();
    for (const row of rows) byCeremony.set(of(row), [...(byCeremony.get(of(row)) ?? []), value(row)]);
    return byCeremony;
  };
  const round2 = group(senders, (s) => s.ceremonyId, (s) => s.fromIdentifier);
  const resultsOf = group(results, (r) => r.ceremonyId, (r) => r.nodeId);
  return ceremonies.map((ceremony) => ({
    ceremony,
    round1Received: Object.keys(ceremony.round1),
    round2Received: round2.get(ceremony.id) ?? [],
    resultsReceived: resultsOf.get(ceremony.id) ?? [],
  }));
}

/** One ceremony's view (three reads): CEREMONY_NOT_FOUND when there is none. */
export async function loadCeremonyView(repos: Repositories, ceremonyId: string): Promise<CeremonyView> {
  const ceremony = await repos.ceremonies.findById(ceremonyId);
  if (!ceremony) throw new DomainError('CEREMONY_NOT_FOUND', `ceremony ${ceremonyId} not found`);
  return (await viewsOf(repos, [ceremony]))[0]!;
}

/** A page of ceremonies as views, in three reads whatever the page size (not one per row). */
export async function listCeremonyViews(repos: Repositories, filter: CeremonyListFilter): Promise<CeremonyView[]> {
  return viewsOf(repos, await repos.ceremonies.list(filter));
}

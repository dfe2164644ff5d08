import type { AuditEntryInput } from '../records.js';
import type { Actor } from './tokens.js';

/**
 * The fields of an audit entry that name who acted: its kind and id, and for an API principal its role
 * (`actorRole` in the details, beside the entry's own). Spread it into `tx.audit.append({...})`.
 */
export function auditActor(actor: Actor, details: Record<string, unknown> = {}): Pick<AuditEntryInput, 'actorKind' | 'actorId' | 'details'> {
  return {
    actorKind: actor.kind,
    actorId: actor.id,
    details: actor.kind === 'principal' ? { ...details, actorRole: actor.role } : details,
  };
}

/**
 * How a record names who made it (a request's `proposer`, a principal's `createdBy`): `admin` for the
 * bootstrap admin token, `principal:<id>` for an API principal, `<kind>:<id>` otherwise.
 */
export function actorRef(actor: Actor): string {
  return actor.kind === 'admin' ? 'admin' : `${actor.kind}:${actor.id}`;
}

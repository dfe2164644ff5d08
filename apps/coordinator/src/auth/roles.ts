import { SetMetadata } from '@nestjs/common';
import { actorRef, type Actor, type PrincipalRole } from '#domain';

/** The roles besides `admin` that a route lets in (an admin may call every route). */
export type GrantedRole = Exclude<PrincipalRole, 'admin'>;

export const ROLES_METADATA = 'roundtable:roles';
export const PUBLIC_METADATA = 'roundtable:public';

/**
 * Names the roles, besides `admin`, that may call a route (on a handler, or on a controller for all of
 * its handlers; a handler's own list wins). A route with neither `@Roles` nor `@Public` is admin-only:
 * the guard fails closed for a route nobody thought about.
 */
export const Roles = (...roles: GrantedRole[]) => SetMetadata(ROLES_METADATA, roles);

/** A route anyone may call without a token (`/health`). */
export const Public = () => SetMetadata(PUBLIC_METADATA, true);

/** The roles that may call a route whose metadata says `granted`: admin always, then the ones named. */
export const allowedRoles = (granted: readonly GrantedRole[] | undefined): PrincipalRole[] => ['admin', ...(granted ?? [])];

/** The role an actor acts in: the bootstrap admin token is an admin; a principal has its own. */
export function roleOf(actor: Actor): PrincipalRole | null {
  if (actor.kind === 'admin') return 'admin';
  if (actor.kind === 'principal') return actor.role;
  return null;
}

/**
 * What a proposer may see of the signing requests: its own only. `{ proposer: 'principal:<id>' }` for a
 * proposer, to pass to the signing-requests service's view, list and cancel; `{}` (everything) for an
 * admin or an auditor.
 */
export function ownRequestsScope(actor: Actor): { proposer?: string } {
  return roleOf(actor) === 'proposer' ? { proposer: actorRef(actor) } : {};
}

import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Actor } from '#domain';

/** The actor the roles guard authenticated, by request (nothing added to Express's own types). */
const actors = new WeakMap<Request, Actor>();

export const setRequestActor = (req: Request, actor: Actor): void => {
  actors.set(req, actor);
};

export const requestActor = (req: Request): Actor | undefined => actors.get(req);

/**
 * The caller of the route, as the roles guard authenticated it: `{kind:'admin', id:'admin-token'}` for
 * the bootstrap token, `{kind:'principal', id, role}` for an API key. Pass it to the service, which
 * names it in the audit entries the call causes.
 */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const actor = requestActor(context.switchToHttp().getRequest<Request>());
  // A @Public route has no actor: asking for one there is a programming error, not a client's.
  if (!actor) throw new Error('@CurrentActor() on a route the roles guard did not authenticate');
  return actor;
});

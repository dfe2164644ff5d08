import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CreateConsoleSessionBody, type ConsoleSessionResponse, type EndConsoleSessionResponse } from '#api';
import { ConsoleSessionsService, DomainError, PrincipalsService, type ConsoleSessionView } from '#domain';
import { ApiTokens } from '../auth/api-tokens.js';
import { Public, Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from '../config/coordinator-config.js';
import { clearedCookie, requestSession, sessionCookie } from './console-cookie.js';

/** One answer for every refused sign-in: it does not tell a wrong admin token from an unknown or revoked key. */
const refused = () => new DomainError('UNAUTHORIZED', 'sign-in refused: the key is not the admin token nor an active API key');

/**
 * The web console's session (docs/protocol.md §11, Console sessions): sign in with an API key, read the
 * session back after a reload (the CSRF token lives only in the page's memory), sign out.
 */
@Controller('v1/console/session')
export class ConsoleSessionController {
  constructor(
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
    @Inject(ApiTokens) private readonly tokens: ApiTokens,
    @Inject(ConsoleSessionsService) private readonly sessions: ConsoleSessionsService,
    @Inject(PrincipalsService) private readonly principals: PrincipalsService,
  ) {}

  /** 201 and the `rt_console` cookie; a refused key is audited (nothing of it kept) and answers 401. */
  @Post()
  @Public()
  async create(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleSessionResponse> {
    const { apiKey } = parseDto(CreateConsoleSessionBody, body);
    const actor = await this.tokens.authenticate(apiKey);
    const context = { remoteAddress: req.socket.remoteAddress };
    if (!actor) {
      await this.sessions.recordFailedSignIn(context);
      throw refused();
    }
    const { secret, session } = await this.sessions.start(actor, this.config.consoleSessionTtlMs, context);
    res.setHeader('set-cookie', sessionCookie(secret, { secure: this.secure(req), maxAgeSeconds: this.config.consoleSessionTtlMs / 1000 }));
    res.setHeader('cache-control', 'no-store');
    return this.describe({ session, actor });
  }

  /** The cookie's session; 401 without one (a bearer token has no console session). */
  @Get()
  @Roles('proposer', 'auditor')
  async current(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleSessionResponse> {
    const view = requestSession(req);
    if (!view) throw new DomainError('UNAUTHORIZED', 'no console session: sign in at /console');
    res.setHeader('cache-control', 'no-store');
    return this.describe(view);
  }

  /** Ends the cookie's session (CSRF-checked like every other change) and clears the cookie. */
  @Post('end')
  @Roles('proposer', 'auditor')
  @HttpCode(200)
  async end(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<EndConsoleSessionResponse> {
    const view = requestSession(req);
    if (view) await this.sessions.end(view);
    res.setHeader('set-cookie', clearedCookie(this.secure(req)));
    return { ended: view !== undefined };
  }

  private secure(req: Request): boolean {
    return this.config.consoleCookieSecure === 'always' || req.secure;
  }

  private async describe(view: ConsoleSessionView): Promise<ConsoleSessionResponse> {
    const { actor, session } = view;
    const name = actor.kind === 'principal' ? (await this.principals.get(actor.id)).name : null;
    return {
      role: actor.kind === 'principal' ? actor.role : 'admin',
      actor: { kind: actor.kind === 'principal' ? 'principal' : 'admin', id: actor.id, name },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
    };
  }
}

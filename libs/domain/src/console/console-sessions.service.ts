import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { auditActor } from '../common/actor.js';
import type { Actor } from '../common/tokens.js';
import { STORE, type Store } from '../ports.js';
import type { ConsoleSessionRecord } from './console-session-records.js';

/** A session secret as the cookie carries it: 32 random bytes, base64url (43 characters). */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** The session's id: SHA-256 of its secret, hex. Only the id is stored. */
export const consoleSessionId = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Names a session in the audit log without making it usable: the first 16 hex digits of its id. */
const fingerprint = (session: ConsoleSessionRecord): string => session.id.slice(0, 16);

/** Expired sessions are kept this long (a day) before a sign-in deletes them: the audit log keeps the rest. */
const KEEP_EXPIRED_MS = 86_400_000;

/** Where a sign-in came from, for its audit entry. */
export interface SignInContext {
  remoteAddress?: string | undefined;
}

const whence = (context: SignInContext): Record<string, string> => (context.remoteAddress ? { remoteAddress: context.remoteAddress } : {});

/** Who signed in, as the guard and the routes see it. */
export interface ConsoleSessionView {
  session: ConsoleSessionRecord;
  /** The actor as it stands now (a principal's role read again on every call). */
  actor: Actor;
}

/**
 * Web console sessions (docs/protocol.md §11, Console sessions). Sign-in trades an already authenticated
 * actor (the caller checked the API key or the admin token) for a random secret, which the browser holds
 * as an httpOnly cookie, and a CSRF token, which the page holds in memory. Everything lives in the
 * database, so every coordinator instance sharing it accepts the session, and ending it anywhere ends it
 * everywhere. A principal's row is read on every call: revoking it ends its sessions on their next call.
 */
@Injectable()
export class ConsoleSessionsService {
  constructor(@Inject(STORE) private readonly store: Store) {}

  /**
   * Starts a session for `actor` (an admin or a principal), valid for `ttlMs`, recorded in the audit log;
   * deletes the sessions that expired more than a day ago on the way (no timer: any instance may do it).
   */
  async start(actor: Actor, ttlMs: number, context: SignInContext = {}, now = new Date()): Promise<{ secret: string; session: ConsoleSessionRecord }> {
    if (actor.kind !== 'admin' && actor.kind !== 'principal') throw new Error(`a ${actor.kind} cannot sign in to the console`);
    const secret = randomBytes(32).toString('base64url');
    const session: ConsoleSessionRecord = {
      id: consoleSessionId(secret),
      actorKind: actor.kind,
      actorId: actor.id,
      actorRole: actor.kind === 'principal' ? actor.role : 'admin',
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlMs),
      endedAt: null,
    };
    await this.store.transaction(async (tx) => {
      await tx.consoleSessions.deleteExpired(new Date(now.getTime() - KEEP_EXPIRED_MS));
      await tx.consoleSessions.insert(session);
      await tx.audit.append({
        occurredAt: now,
        action: 'console.signed_in',
        outcome: 'success',
        ...auditActor(actor, { session: fingerprint(session), expiresAt: session.expiresAt.toISOString(), ...whence(context) }),
      });
    });
    return { secret, session };
  }

  /**
   * Records a refused sign-in. Nothing of the key that was tried is kept (not even a hash: a mistyped
   * admin token is close to the real one), so the entry says only that one failed, when and from where.
   */
  async recordFailedSignIn(context: SignInContext = {}, now = new Date()): Promise<void> {
    await this.store.transaction((tx) =>
      tx.audit.append({ occurredAt: now, action: 'console.sign_in_failed', outcome: 'failure', actorKind: 'system', actorId: 'console', details: whence(context) }),
    );
  }

  /**
   * The live session a cookie's secret belongs to, with its actor as it stands now; null for a malformed
   * or unknown secret, an ended or expired session, or a principal that is gone or revoked.
   */
  async resolve(secret: string, now = new Date()): Promise<ConsoleSessionView | null> {
    if (!SECRET.test(secret)) return null;
    const session = await this.store.read.consoleSessions.findById(consoleSessionId(secret));
    if (!session || session.endedAt !== null || session.expiresAt.getTime() <= now.getTime()) return null;
    if (session.actorKind === 'admin') return { session, actor: { kind: 'admin', id: session.actorId } };
    const principal = await this.store.read.principals.findById(session.actorId);
    if (!principal || principal.revokedAt !== null) return null;
    return { session, actor: { kind: 'principal', id: principal.id, role: principal.role } };
  }

  /** Ends the session (idempotent); the sign-out is audited once, by the call that ended it. */
  async end(view: ConsoleSessionView, now = new Date()): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!(await tx.consoleSessions.end(view.session.id, now))) return;
      await tx.audit.append({ occurredAt: now, action: 'console.signed_out', outcome: 'success', ...auditActor(view.actor, { session: fingerprint(view.session) }) });
    });
  }
}

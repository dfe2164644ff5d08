import type { PrincipalRole } from '../records.js';

/**
 * A web console session (migration 0012). `id` is the SHA-256 (hex) of the cookie's secret: the secret
 * itself is never stored, so a copy of the table signs nobody in.
 */
export interface ConsoleSessionRecord {
  id: string;
  actorKind: 'admin' | 'principal';
  /** `admin-token` for the bootstrap token, else the principal's id. */
  actorId: string;
  actorRole: PrincipalRole;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
}

/** Console sessions, by the hash of their secret. */
export interface ConsoleSessionRepository {
  insert(session: ConsoleSessionRecord): Promise<void>;
  findById(id: string): Promise<ConsoleSessionRecord | null>;
  /** Sets `ended_at` unless already set; true when this call ended it. */
  end(id: string, at: Date): Promise<boolean>;
  /** Deletes the sessions that expired before `before` (ended or not); how many. */
  deleteExpired(before: Date): Promise<number>;
}

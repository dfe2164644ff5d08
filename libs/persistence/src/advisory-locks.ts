/**
 * PostgreSQL advisory lock keys (bigint, one namespace per database). Spelled as ASCII so that a
 * `pg_locks` listing says whose lock it is.
 */
export const AdvisoryLock = {
  /** Held, session-level, while migrations run: "RTMIGR". */
  migrations: 0x52544d494752,
  /** Held, transaction-level, from an audit append to its commit, so the chain grows one entry at a time: "RTAUDT". */
  auditChain: 0x525441554454,
  /** Held, transaction-level, while a coordinator instance registers, so instances starting together see each other: "RTINST". */
  instances: 0x5254494e5354,
} as const;

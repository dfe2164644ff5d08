import { randomUUID } from 'node:crypto';
import { dealKey, getSuite, isSuiteId, type SuiteId } from '#crypto';
import { Keystore } from '../keystore/keystore.js';
import { silentLogger, type SignerLogger } from '../logger.js';
import { SignerError, isSignerError } from '../signer-error.js';
import { CoordinatorAdminClient, type KeyRegistration } from './coordinator-admin-client.js';

export interface DealerOptions {
  /** The coordinator's HTTP base URL, e.g. http://localhost:3000. */
  coordinatorUrl: string;
  adminToken: string;
  suite: SuiteId;
  threshold: number;
  /** One keystore per participant; identifiers 1..n follow this order. */
  keystores: string[];
  keyId?: string;
  logger?: SignerLogger;
}

export interface DealtMember {
  keystore: string;
  nodeId: string;
  identifier: string;
}

export interface DealerResult {
  keyId: string;
  members: DealtMember[];
  /** The key record the coordinator returned. */
  key: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `signer dealer`: trusted-dealer key generation for a set of local keystores (RFC 9591 App. C).
 * Every share goes straight into its node's keystore; the coordinator receives the public package
 * only. Shares are written before the key is registered, so a registered key always has its shares;
 * if the coordinator refuses the key, the shares just written are removed again.
 */
export async function runDealer(options: DealerOptions): Promise<DealerResult> {
  const logger = options.logger ?? silentLogger;
  const n = options.keystores.length;
  const keyId = (options.keyId ?? randomUUID()).toLowerCase();
  validate(options, keyId);

  const client = new CoordinatorAdminClient(options.coordinatorUrl, options.adminToken);
  const keystores = await Promise.all(options.keystores.map((dir) => Keystore.open(dir)));
  const seen = new Map<string, string>();
  for (const ks of keystores) {
    const other = seen.get(ks.publicKey);
    if (other) throw new SignerError('DEALER_INVALID', `keystores ${other} and ${ks.dir} hold the same identity`);
    seen.set(ks.publicKey, ks.dir);
    if (await ks.findShare(keyId)) {
      throw new SignerError('SHARE_EXISTS', `keystore ${ks.dir} already holds a share of key ${keyId}`);
    }
  }

  const nodes = await client.listNodes();
  const suite = getSuite(options.suite);
  const members: DealtMember[] = keystores.map((ks, i) => {
    const enrolled = nodes.filter((node) => node.publicKey === ks.publicKey);
    const active = enrolled.find((node) => node.status === 'active');
    if (!active) {
      const why = enrolled.length > 0 ? `is ${enrolled.map((e) => e.status).join(', ')}` : 'is not enrolled';
      throw new SignerError(
        'NODE_NOT_ENROLLED',
        `keystore ${ks.dir}: its node (public key ${ks.publicKey}) ${why}; an admin must enroll it before dealing`,
      );
    }
    return { keystore: ks.dir, nodeId: active.id, identifier: suite.identifier(i + 1) };
  });

  const dealt = dealKey(options.suite, options.threshold, n);
  const written: Keystore[] = [];
  try {
    for (const [i, ks] of keystores.entries()) {
      const member = members[i]!;
      const signingShare = dealt.secretShares[member.identifier];
      if (signingShare === undefined) throw new Error(`the dealer produced no share for ${member.identifier}`);
      await ks.writeShare({
        keyId,
        suite: options.suite,
        identifier: member.identifier,
        signingShare,
        publicPackage: dealt.public,
      });
      written.push(ks);
      logger.info({ keystore: ks.dir, keyId, identifier: member.identifier }, 'wrote share');
    }
  } catch (e) {
    await rollBack(written, keyId, logger);
    throw e;
  }

  const registration: KeyRegistration = {
    id: keyId,
    suite: options.suite,
    threshold: options.threshold,
    maxSigners: n,
    commitments: dealt.public.commitments,
    verifyingShares: dealt.public.verifyingShares,
    members: members.map((m) => ({ nodeId: m.nodeId, identifier: m.identifier })),
  };
  let key: unknown;
  try {
    key = await client.registerKey(registration);
  } catch (e) {
    // Only a definite refusal (4xx) proves the key is not registered; after a timeout or a 5xx it may
    // be, and deleting its shares could strand whatever is later sent to its group key.
    if (isSignerError(e) && e.code === 'COORDINATOR_REJECTED' && /HTTP 4\d\d/.test(e.message)) {
      await rollBack(written, keyId, logger);
      throw new SignerError(e.code, `${e.message}; the shares written for key ${keyId} were removed`, { cause: e });
    }
    throw new SignerError(
      isSignerError(e) ? e.code : 'COORDINATOR_UNREACHABLE',
      `${(e as Error).message}; the key ${keyId} may or may not be registered: its shares were kept in ` +
        `${written.map((k) => k.dir).join(', ')}; check GET /v1/keys/${keyId} before dealing again`,
      { cause: e },
    );
  }
  return { keyId, members, key };
}

function validate(options: DealerOptions, keyId: string): void {
  const n = options.keystores.length;
  if (!isSuiteId(options.suite)) throw new SignerError('DEALER_INVALID', `unknown suite ${String(options.suite)}`);
  if (n < 2) throw new SignerError('DEALER_INVALID', 'at least two --keystore are needed');
  if (!Number.isInteger(options.threshold) || options.threshold < 2 || options.threshold > n) {
    throw new SignerError('DEALER_INVALID', `threshold must be an integer in [2, ${n}] for ${n} keystores`);
  }
  if (!UUID.test(keyId)) throw new SignerError('DEALER_INVALID', `key id ${JSON.stringify(keyId)} is not a UUID`);
}

async function rollBack(written: readonly Keystore[], keyId: string, logger: SignerLogger): Promise<void> {
  for (const ks of written) {
    try {
      await ks.removeShare(keyId);
    } catch (e) {
      logger.error({ keystore: ks.dir, keyId, err: (e as Error).message }, 'could not remove a share while rolling back');
    }
  }
}

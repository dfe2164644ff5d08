import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { dealKey, getSuite, isSuiteId, type SuiteId } from '#crypto';
import type { EvmKeyInfo } from '#evm';
import { Keystore } from '../keystore/keystore.js';
import { sealShareToIdentity } from '../keystore/sealed-share.js';
import { silentLogger, type SignerLogger } from '../logger.js';
import { SignerError, isSignerError } from '../signer-error.js';
import { CoordinatorAdminClient, type KeyRegistration } from './coordinator-admin-client.js';
import { dealForEvm } from './dealer-evm.js';

export interface DealerOptions {
  /** The coordinator's HTTP base URL, e.g. http://localhost:3000. */
  coordinatorUrl: string;
  adminToken: string;
  suite: SuiteId;
  threshold: number;
  /** One keystore per participant; identifiers 1..n follow this order. Their passphrases are not needed. */
  keystores: string[];
  keyId?: string;
  /** secp256k1 only: deal again until contracts can verify the key (`signer dealer --evm`). */
  evm?: boolean;
  logger?: SignerLogger;
  /** The key generation; tests replace it to reach the 2^-128 case. */
  deal?: typeof dealKey;
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
  /** A secp256k1 key's EVM view (null for other suites): `usable` false means contracts cannot verify it. */
  evm: EvmKeyInfo | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `signer dealer`: trusted-dealer key generation for a set of local keystores (RFC 9591 App. C).
 * Each share is sealed to its node's identity key (read from the keystore's clear header) and dropped
 * into the keystore's inbox; the node imports it into its encrypted keystore. The dealer never writes
 * a plaintext share and never needs a node's passphrase; the coordinator receives the public package
 * only. Shares are delivered before the key is registered, so a registered key always has its shares;
 * if the coordinator refuses the key, the sealed shares just delivered are withdrawn again.
 */
export async function runDealer(options: DealerOptions): Promise<DealerResult> {
  const logger = options.logger ?? silentLogger;
  const n = options.keystores.length;
  const keyId = (options.keyId ?? randomUUID()).toLowerCase();
  validate(options, keyId);

  const client = new CoordinatorAdminClient(options.coordinatorUrl, options.adminToken);
  const keystores = await Promise.all(
    options.keystores.map(async (dir) => ({ dir: resolve(dir), publicKey: await Keystore.readPublicKey(dir) })),
  );
  const seen = new Map<string, string>();
  for (const ks of keystores) {
    const other = seen.get(ks.publicKey);
    if (other) throw new SignerError('DEALER_INVALID', `keystores ${other} and ${ks.dir} hold the same identity`);
    seen.set(ks.publicKey, ks.dir);
    if (await Keystore.holdsKey(ks.dir, keyId)) {
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

  const deal = options.deal ?? dealKey;
  const { dealt, evm, deals } = dealForEvm(options.suite, options.evm === true, () => deal(options.suite, options.threshold, n));
  if (deals > 1) logger.info({ keyId, deals }, 'dealt again until the key is usable on the EVM');
  if (evm && !evm.usable) {
    logger.warn({ keyId, evmAddress: evm.address, reason: evm.reason }, 'this key is NOT usable on the EVM (it still signs off-chain); deal with --evm to get one that is');
  }
  const delivered: string[] = [];
  try {
    for (const [i, ks] of keystores.entries()) {
      const member = members[i]!;
      const signingShare = dealt.secretShares[member.identifier];
      if (signingShare === undefined) throw new Error(`the dealer produced no share for ${member.identifier}`);
      const share = { keyId, suite: options.suite, identifier: member.identifier, signingShare, publicPackage: dealt.public };
      await Keystore.deliverSealedShare(ks.dir, keyId, sealShareToIdentity(share, ks.publicKey));
      delivered.push(ks.dir);
      logger.info({ keystore: ks.dir, keyId, identifier: member.identifier }, 'delivered the sealed share to the inbox');
    }
  } catch (e) {
    await rollBack(delivered, keyId, logger);
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
      await rollBack(delivered, keyId, logger);
      throw new SignerError(e.code, `${e.message}; the shares delivered for key ${keyId} were withdrawn`, { cause: e });
    }
    throw new SignerError(
      isSignerError(e) ? e.code : 'COORDINATOR_UNREACHABLE',
      `${(e as Error).message}; the key ${keyId} may or may not be registered: its sealed shares were kept in ` +
        `${delivered.join(', ')}; check GET /v1/keys/${keyId} before dealing again`,
      { cause: e },
    );
  }
  return { keyId, members, key, evm };
}

function validate(options: DealerOptions, keyId: string): void {
  const n = options.keystores.length;
  if (!isSuiteId(options.suite)) throw new SignerError('DEALER_INVALID', `unknown suite ${String(options.suite)}`);
  if (n < 2) throw new SignerError('DEALER_INVALID', 'at least two --keystore are needed');
  if (!Number.isInteger(options.threshold) || options.threshold < 2 || options.threshold > n) {
    throw new SignerError('DEALER_INVALID', `threshold must be an integer in [2, ${n}] for ${n} keystores`);
  }
  if (!UUID.test(keyId)) throw new SignerError('DEALER_INVALID', `key id ${JSON.stringify(keyId)} is not a UUID`);
  if (options.evm && options.suite !== 'secp256k1') {
    throw new SignerError('DEALER_INVALID', `--evm needs --suite secp256k1 (FROST(secp256k1, SHA-256)), not ${options.suite}`);
  }
}

async function rollBack(delivered: readonly string[], keyId: string, logger: SignerLogger): Promise<void> {
  for (const dir of delivered) {
    try {
      await Keystore.withdrawSealedShare(dir, keyId);
    } catch (e) {
      logger.error({ keystore: dir, keyId, err: (e as Error).message }, 'could not withdraw a sealed share while rolling back');
    }
  }
}

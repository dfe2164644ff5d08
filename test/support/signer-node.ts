import { SignerNode, silentLogger, type SignerNodeOptions } from '#signer';
import { allowAllPolicy } from '../../libs/signer/src/testing/test-policy.js';
import type { TestCoordinator } from './coordinator.js';

/**
 * A real signer node for a test coordinator: it insists on the coordinator's id, approves everything
 * unless told otherwise, logs nothing and reconnects quickly. Not started.
 */
export function realSignerNode(
  coord: TestCoordinator,
  keystoreDir: string,
  passphrase: string,
  overrides: Partial<SignerNodeOptions> = {},
): SignerNode {
  return new SignerNode({
    keystoreDir,
    passphrase,
    coordinatorUrl: coord.wsUrl,
    coordinatorId: coord.config.coordinatorId,
    policy: allowAllPolicy(),
    logger: silentLogger,
    reconnect: { initialMs: 50, maxMs: 500 },
    ...overrides,
  });
}

import type { SignerNodeOptions } from '../signer-node.js';
import { TEST_PASSPHRASE } from './key-fixtures.js';
import { allowAllPolicy } from './test-policy.js';

/** A test node's options: allows everything, reconnects fast, no heartbeat; overridable. */
export const testNodeOptions = (keystoreDir: string, coordinatorUrl: string, overrides: Partial<SignerNodeOptions> = {}): SignerNodeOptions => ({
  keystoreDir,
  passphrase: TEST_PASSPHRASE,
  coordinatorUrl,
  policy: allowAllPolicy(),
  reconnect: { initialMs: 20, maxMs: 100 },
  heartbeatMs: 0,
  ...overrides,
});

/**
 * The demo's treasury: USDC on Ethereum mainnet, a payroll wallet every operator knows, and one policy
 * file per node (written as YAML, the way an operator would keep it). Amounts are USDC base units
 * (6 decimals), as EIP-712 messages carry them.
 */
export const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
export const PAYROLL = '0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c';
export const UNKNOWN_RECIPIENT = '0x000000000000000000000000000000000000dEaD';
export const CHAIN_ID = 1;

/** Every node signs the demo's plain messages (one per suite) whose description starts with "Demo ". */
const DEMO_MESSAGES = `
  - id: demo-messages
    outcome: allow
    description: the demo's messages, one per suite
    match:
      kinds: [text, digest]
      description: "^Demo "
`;

/**
 * Every node signs the demo Safe's transfers (safe-flow.ts): SafeTx intents on the local chain, plain
 * calls of at most 1 ETH to payroll. The Safe's address is only known once the demo deployed it, so the
 * rule names the chain, the type and the recipient; a real deployment pins `domain.verifyingContract` to
 * its Safe.
 */
export const LOCAL_CHAIN_ID = 31337;
const DEMO_SAFE = `
  - id: demo-safe
    outcome: allow
    description: the demo Safe's ETH transfers to payroll, on the local chain
    match:
      kinds: [eip712]
      chainIds: [${LOCAL_CHAIN_ID}]
      primaryTypes: [SafeTx]
      recipients: { field: to, allow: ["${PAYROLL}"] }
      fields: [{ path: value, lte: "1000000000000000000" }, { path: operation, eq: 0 }, { path: data, eq: "0x" }]
      description: "^Demo Safe "
`;

const TRANSFER_MATCH = `
      kinds: [eip712]
      chainIds: [${CHAIN_ID}]
      domain: { name: USD Coin, verifyingContract: "${USDC}" }
      primaryTypes: [Transfer]`;

/**
 * Node 1 signs payroll transfers by itself while they stay under 5,000 USDC each and 10,000 USDC a day,
 * and approves session-key grants of at most a day.
 */
const NODE_1 = `version: 1
rules:${DEMO_MESSAGES}${DEMO_SAFE}
  - id: payroll-under-5000
    outcome: allow
    match:${TRANSFER_MATCH}
      recipients: { field: to, allow: ["${PAYROLL}"] }
      fields: [{ path: value, lte: "5000000000" }]
      within: [usdc-per-day]
limits:
  - { id: usdc-per-day, amountField: value, max: "10000000000", windowMs: 86400000, per: key }
grantRules:
  - id: short-agent-grants
    outcome: allow
    description: session keys for at most a day
    match: { granteeKinds: [ed25519], maxValidityMs: 86400000 }
`;

/** Node 2's operator decides every transfer, and every grant, by hand. */
const NODE_2 = `version: 1
rules:${DEMO_MESSAGES}${DEMO_SAFE}
  - id: transfers-need-me
    outcome: ask
    match:${TRANSFER_MATCH}
grantRules:
  - id: grants-need-me
    outcome: ask
    match: {}
`;

/** Node 3 signs small transfers only, refuses anything over 1,000 USDC outright, and approves no grant (none of its rules names grants). */
const NODE_3 = `version: 1
rules:${DEMO_MESSAGES}${DEMO_SAFE}
  - id: payroll-under-1000
    outcome: allow
    match:${TRANSFER_MATCH}
      recipients: { field: to, allow: ["${PAYROLL}"] }
      fields: [{ path: value, lte: "1000000000" }]
  - id: over-1000
    outcome: deny
    match:${TRANSFER_MATCH}
      fields: [{ path: value, gt: "1000000000" }]
`;

export const DEMO_POLICIES = [NODE_1, NODE_2, NODE_3] as const;

/** An ERC-20 transfer as an EIP-712 intent (the shape of a token's typed `Transfer` authorisation). */
export function transferIntent(to: string, value: string, nonce: number) {
  return {
    kind: 'eip712' as const,
    typedData: {
      domain: { name: 'USD Coin', version: '2', chainId: CHAIN_ID, verifyingContract: USDC },
      types: {
        Transfer: [
          { name: 'from', type: 'address' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'nonce', type: 'uint256' },
        ],
      },
      primaryType: 'Transfer',
      message: { from: '0x7a16ff8270133f063aab6c9977183d9e72835428', to, value, nonce: String(nonce) },
    },
  };
}

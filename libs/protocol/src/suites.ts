/**
 * Every FROST ciphersuite the system supports: the single source of truth for suite ids
 * (the wire enum below and `#crypto`'s suite table are both derived from it).
 * `secp256k1-tr` is frost-rs's BIP340/Taproot suite (FROST-secp256k1-SHA256-TR-v1), not an RFC 9591 one.
 */
export const SUITE_IDS = ['secp256k1', 'ed25519', 'secp256k1-tr', 'ristretto255', 'p256', 'ed448'] as const;

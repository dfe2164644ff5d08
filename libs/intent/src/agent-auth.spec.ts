import { Wallet, verifyMessage } from 'ethers';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { AgentAuthorization } from '#protocol';
import { agentNonce, signAgentRequest, signAgentRequestWith, verifyAgentAuthorization } from './agent-auth.js';
import { agentRequestText } from './grant.js';
import { GRANT_ID, grant } from './testing/grant-fixtures.js';

/** Agent signatures: Ed25519 session keys, and EIP-191 with viem, checked against ethers as well. */

const OTHER_GRANT = '0e0e0e0e-1111-4222-8333-444444444444';
const fields = (over: Partial<{ grantId: string; intentHash: string; nonce: string; timestamp: number }> = {}) => ({
  grantId: GRANT_ID,
  intentHash: 'ab'.repeat(32),
  nonce: agentNonce(),
  timestamp: Date.UTC(2025, 0, 2),
  ...over,
});

describe('Ed25519 session keys', () => {
  const key = generateIdentity();
  const g = grant({}, { grantee: { kind: 'ed25519', publicKey: key.publicKey } });

  it('signs an authorization the protocol schema accepts and verifies it', async () => {
    const auth = signAgentRequest(key.secretKey, fields());
    expect(AgentAuthorization.parse(auth)).toEqual(auth);
    expect(auth.nonce).toMatch(/^[0-9a-f]{32}$/);
    await expect(verifyAgentAuthorization(g, auth)).resolves.toBe(true);
  });

  it.each([
    ['the intent hash', { intentHash: 'cd'.repeat(32) }],
    ['the nonce', { nonce: 'ff'.repeat(16) }],
    ['the timestamp', { timestamp: Date.UTC(2025, 0, 2) + 1 }],
  ])('a changed %s does not verify', async (_, change) => {
    const auth = signAgentRequest(key.secretKey, fields());
    await expect(verifyAgentAuthorization(g, { ...auth, ...change })).resolves.toBe(false);
  });

  it('an authorization for another grant does not verify, even one signed for it', async () => {
    const auth = signAgentRequest(key.secretKey, fields({ grantId: OTHER_GRANT }));
    await expect(verifyAgentAuthorization(g, auth)).resolves.toBe(false);
    await expect(verifyAgentAuthorization(grant({}, { id: OTHER_GRANT, grantee: g.grantee }), auth)).resolves.toBe(true);
  });

  it('another key, a 65-byte signature or garbage does not verify', async () => {
    const other = generateIdentity();
    await expect(verifyAgentAuthorization(g, signAgentRequest(other.secretKey, fields()))).resolves.toBe(false);
    const auth = signAgentRequest(key.secretKey, fields());
    await expect(verifyAgentAuthorization(g, { ...auth, signature: auth.signature + '1b' })).resolves.toBe(false);
    await expect(verifyAgentAuthorization(g, { ...auth, signature: '00'.repeat(64) })).resolves.toBe(false);
  });
});

describe('EIP-191 grantees (viem keys, ethers as the independent check)', () => {
  const account = privateKeyToAccount(generatePrivateKey());
  const g = grant({}, { grantee: { kind: 'eip191', address: account.address } });

  it('a viem signature verifies here and recovers to the same address in ethers', async () => {
    const auth = await signAgentRequestWith(account, fields());
    expect(AgentAuthorization.parse(auth)).toEqual(auth);
    await expect(verifyAgentAuthorization(g, auth)).resolves.toBe(true);
    expect(verifyMessage(agentRequestText(auth), `0x${auth.signature}`)).toBe(account.address);
  });

  it('an ethers wallet signature verifies here, whatever the letter case of the address in the grant', async () => {
    const wallet = Wallet.createRandom();
    const f = fields();
    const signature = (await wallet.signMessage(agentRequestText(f))).slice(2).toLowerCase();
    const auth = { ...f, signature };
    await expect(verifyAgentAuthorization(grant({}, { grantee: { kind: 'eip191', address: wallet.address.toLowerCase() } }), auth)).resolves.toBe(true);
    await expect(verifyAgentAuthorization(grant({}, { grantee: { kind: 'eip191', address: wallet.address } }), auth)).resolves.toBe(true);
    await expect(verifyAgentAuthorization(g, auth)).resolves.toBe(false);
  });

  it('a changed field, another grant, an Ed25519-sized or unrecoverable signature does not verify (and nothing throws)', async () => {
    const auth = await signAgentRequestWith(account, fields());
    await expect(verifyAgentAuthorization(g, { ...auth, intentHash: 'cd'.repeat(32) })).resolves.toBe(false);
    await expect(verifyAgentAuthorization(grant({}, { id: OTHER_GRANT, grantee: g.grantee }), auth)).resolves.toBe(false);
    await expect(verifyAgentAuthorization(g, { ...auth, signature: auth.signature.slice(0, 128) })).resolves.toBe(false);
    await expect(verifyAgentAuthorization(g, { ...auth, signature: '00'.repeat(65) })).resolves.toBe(false);
    await expect(verifyAgentAuthorization(g, { ...auth, signature: auth.signature.slice(0, 128) + '05' })).resolves.toBe(false);
  });

  it('an Ed25519 signature is not accepted for an EIP-191 grantee, nor the reverse', async () => {
    const key = generateIdentity();
    await expect(verifyAgentAuthorization(g, signAgentRequest(key.secretKey, fields()))).resolves.toBe(false);
    const edGrant = grant({}, { grantee: { kind: 'ed25519', publicKey: key.publicKey } });
    await expect(verifyAgentAuthorization(edGrant, await signAgentRequestWith(account, fields()))).resolves.toBe(false);
  });
});

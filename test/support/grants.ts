import { generateIdentity, type IdentityKeyPair } from '#crypto';
import { takeIn } from '#domain';
import { agentNonce, signAgentRequest } from '#intent';
import type { AgentAuthorization, GrantScope, Payload } from '#protocol';
import { expect } from 'vitest';
import type { TestCoordinator } from './coordinator.js';
import type { ScriptedSigner } from './scripted-signer.js';

export const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
export const DAI = '0x6b175474e89094c44da98b954eedeac495271d0f';
export const ALICE = '0x1111111111111111111111111111111111111111';
export const EVE = '0x9999999999999999999999999999999999999999';

/** An ERC-20-style transfer as EIP-712 typed data (no domain chainId: the request's chainId is free). */
export function transfer(value: string, { to = ALICE, contract = USDC, primaryType = 'Transfer' } = {}): Payload {
  return {
    kind: 'eip712',
    typedData: {
      domain: { name: 'Token', version: '1', verifyingContract: contract },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'verifyingContract', type: 'address' },
        ],
        [primaryType]: [
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
        ],
      },
      primaryType,
      message: { to, value },
    },
  };
}

export interface GrantView {
  id: string;
  status: string;
  grantHash: string;
  grant: { id: string; keyId: string };
  approvals: { nodeId: string; state: string; decision: unknown }[];
  usage: { requests: { made: number; max: number | null; remaining: number | null }; budgets: { spent: string; remaining: string }[]; rate: { count: number } | null };
  requests: { id: string; status: string }[];
  revokedBy: string | null;
  scopeText: string[];
}

/** An agent: its session key and the grant it acts under. */
export class Agent {
  readonly session: IdentityKeyPair = generateIdentity();
  grantId = '';
  keyId = '';

  constructor(private readonly coord: TestCoordinator) {}

  /** Proposes a grant for this agent's session key (201). */
  async propose(keyId: string, scope: GrantScope, extra: Record<string, unknown> = {}): Promise<GrantView> {
    const res = await this.coord.api<GrantView>('POST', '/v1/grants', {
      keyId,
      grantee: { kind: 'ed25519', publicKey: this.session.publicKey },
      label: 'test agent',
      validUntil: Date.now() + 3_600_000,
      scope,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    this.grantId = res.body.id;
    this.keyId = keyId;
    return res.body;
  }

  /** Proposes and has `approvers` approve: active. */
  async activeGrant(keyId: string, scope: GrantScope, approvers: ScriptedSigner[], extra: Record<string, unknown> = {}): Promise<GrantView> {
    await this.propose(keyId, scope, extra);
    for (const s of approvers) expect(await s.decideGrant(this.grantId)).toMatchObject({ type: 'ack' });
    const view = await this.view();
    expect(view.status).toBe('active');
    return view;
  }

  async view(): Promise<GrantView> {
    return (await this.coord.api<GrantView>('GET', `/v1/grants/${this.grantId}`)).body;
  }

  /** The intent hash the coordinator will compute for this body (the agent builds the intent as the coordinator does). */
  intentHash(body: { payload: Payload; chainId?: number; description?: string; deadline: string }): string {
    return takeIn({ keyId: this.keyId, payload: body.payload, description: body.description ?? '', ...(body.chainId !== undefined ? { chainId: body.chainId } : {}), deadline: new Date(body.deadline) }, `grant:${this.grantId}`, {
      key: { threshold: 2, suite: 'secp256k1' },
      now: new Date(),
      defaultTtlMs: 60_000,
      maxTtlMs: 86_400_000,
    }).intentHash;
  }

  /**
   * Submits a request under the grant, signed by the session key. `tamper` changes the authorization
   * after signing or replaces its fields before (`fields`).
   */
  async request(
    payload: Payload,
    opts: { chainId?: number; description?: string; fields?: Partial<Omit<AgentAuthorization, 'signature'>>; secretKey?: string; tamper?: (a: AgentAuthorization) => AgentAuthorization } = {},
  ): Promise<{ status: number; body: { id?: string; status?: string; error?: { code: string; message: string } } }> {
    const deadline = new Date(Date.now() + 120_000).toISOString();
    const body = { payload, deadline, description: opts.description ?? `request ${agentNonce()}`, ...(opts.chainId !== undefined ? { chainId: opts.chainId } : {}) };
    const fields = { grantId: this.grantId, intentHash: this.intentHash(body), nonce: agentNonce(), timestamp: Date.now(), ...opts.fields };
    let authorization = signAgentRequest(opts.secretKey ?? this.session.secretKey, fields);
    if (opts.tamper) authorization = opts.tamper(authorization);
    return this.coord.api('POST', `/v1/grants/${this.grantId}/requests`, { ...body, authorization }, { authorization: '' });
  }
}

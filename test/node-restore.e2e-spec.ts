import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPageResponse, ErrorResponse, NodeResponse } from '#api';
import { generateIdentity } from '#crypto';
import { CloseCode } from '#protocol';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';

/** The way back for a revoked node: restore it (POST /v1/nodes/:id/restore), or enroll a new identity. */
describe('revoked nodes: restore, and what enrolling their key again says', () => {
  let coord: TestCoordinator;

  beforeAll(async () => {
    coord = await startTestCoordinator();
  });
  afterAll(async () => coord?.destroy());

  const node = async (res: Promise<{ status: number; body: unknown }>, status = 200) => {
    const answer = await res;
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    return NodeResponse.parse(answer.body);
  };
  const refusal = async (res: Promise<{ status: number; body: unknown }>) => {
    const answer = await res;
    return { status: answer.status, ...ErrorResponse.parse(answer.body).error };
  };

  it('a revoked node is restored with a node.restored entry and may authenticate again', async () => {
    const identity = generateIdentity();
    const enrolled = await node(coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey, label: 'ops-7' }), 201);
    const live = await RawNode.connect(coord.wsUrl, identity);
    await live.next('auth.ok');
    expect((await node(coord.api('POST', `/v1/nodes/${enrolled.id}/revoke`))).status).toBe('revoked');
    expect(await live.closed()).toBe(CloseCode.NODE_REVOKED);

    // Enrolling the revoked node's key again names the node and both ways back.
    const again = await refusal(coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey.toUpperCase(), label: 'ops-7 again' }));
    expect([again.status, again.code]).toEqual([409, 'NODE_ALREADY_ENROLLED']);
    expect(again.message).toContain(enrolled.id);
    expect(again.message).toContain(`POST /v1/nodes/${enrolled.id}/restore`);
    expect(again.message).toContain('signer init --keystore <dir> --force');
    expect(again.details).toEqual({ nodeId: enrolled.id, status: 'revoked' });

    const restored = await node(coord.api('POST', `/v1/nodes/${enrolled.id.toUpperCase()}/restore`));
    expect(restored).toMatchObject({ id: enrolled.id, status: 'active', revokedAt: null, publicKey: identity.publicKey, label: 'ops-7' });
    const back = await RawNode.connect(coord.wsUrl, identity);
    expect(await back.next('auth.ok')).toMatchObject({ nodeId: enrolled.id });
    back.close();

    // Restoring an active node changes nothing and writes nothing.
    expect(await node(coord.api('POST', `/v1/nodes/${enrolled.id}/restore`))).toMatchObject({ status: 'active' });
    const audit = AuditPageResponse.parse((await coord.api('GET', `/v1/audit?nodeId=${enrolled.id}&action=node.restored`)).body);
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ action: 'node.restored', outcome: 'success', actor: { kind: 'admin' }, details: { label: 'ops-7' } });
  });

  it('enrolling an active node\'s key again names that node; restore answers NODE_NOT_FOUND and VALIDATION_FAILED', async () => {
    const identity = generateIdentity();
    const enrolled = await node(coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey, label: 'ops-8' }), 201);
    const again = await refusal(coord.api('POST', '/v1/nodes', { publicKey: identity.publicKey, label: 'dup' }));
    expect([again.status, again.code]).toEqual([409, 'NODE_ALREADY_ENROLLED']);
    expect(again.message).toContain(enrolled.id);
    expect(again.message).not.toContain('restore');
    expect(await refusal(coord.api('POST', '/v1/nodes/3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41/restore'))).toMatchObject({ status: 404, code: 'NODE_NOT_FOUND' });
    expect(await refusal(coord.api('POST', '/v1/nodes/nope/restore'))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});

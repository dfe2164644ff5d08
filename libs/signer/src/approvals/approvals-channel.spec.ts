import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignerError } from '../signer-error.js';
import { initTestKeystore, tempDir } from '../testing/key-fixtures.js';
import { ApprovalQueue } from './approval-queue.js';
import { callApprovals } from './approvals-client.js';
import { ApprovalsRefusal, type ApprovalRecord } from './approvals-protocol.js';
import { ApprovalsServer, type ApprovalsHandler } from './approvals-server.js';
import { MAX_SOCKET_PATH_BYTES, approvalsSocketPath } from './socket-path.js';

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof SignerError ? e.code : String(e)));

describe('the approvals channel', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let keystore: string;
  let server: ApprovalsServer | undefined;
  const handler: ApprovalsHandler = (request) => {
    if (request.op === 'list') return Promise.resolve({ ok: true, approvals: [] });
    return Promise.reject(new ApprovalsRefusal('APPROVAL_NOT_FOUND', `no approval ${'id' in request ? request.id : ''}`));
  };
  beforeEach(async () => {
    dir = await tempDir('rt-ap-');
    keystore = join(dir.path, 'ks');
    await initTestKeystore(keystore);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await dir.cleanup();
  });

  it('listens on <keystore>/approvals.sock, mode 0600, and answers the client with the shared schemas', async () => {
    server = await ApprovalsServer.listen(keystore, handler);
    expect(server.path).toBe(join(keystore, 'approvals.sock'));
    const info = await stat(server.path);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    expect(await callApprovals(keystore, { op: 'list' })).toEqual({ ok: true, approvals: [] });
    const id = randomUUID();
    const refused = await callApprovals(keystore, { op: 'show', id }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'APPROVALS_REFUSED', message: `APPROVAL_NOT_FOUND: no approval ${id}` });
  });

  it('refuses to listen in a keystore directory other users can enter', async () => {
    await chmod(keystore, 0o755);
    expect(await codeOf(ApprovalsServer.listen(keystore, handler))).toBe('APPROVALS_CHANNEL_INSECURE');
  });

  it('replaces a stale socket left by a crashed run, and refuses a path taken by a file', async () => {
    server = await ApprovalsServer.listen(keystore, handler);
    // A crash leaves the socket file behind: the next node (holding the keystore lock) takes it over.
    const stale = server;
    server = await ApprovalsServer.listen(keystore, handler);
    await stale.close().catch(() => undefined);
    await server.close();
    server = undefined;
    await writeFile(join(keystore, 'approvals.sock'), 'not a socket');
    expect(await codeOf(ApprovalsServer.listen(keystore, handler))).toBe('APPROVALS_CHANNEL_INSECURE');
    expect(await readFile(join(keystore, 'approvals.sock'), 'utf8')).toBe('not a socket');
  });

  it('says clearly when the socket path would be too long for a UNIX socket', async () => {
    const deep = join(dir.path, 'd'.repeat(MAX_SOCKET_PATH_BYTES));
    expect(() => approvalsSocketPath(deep)).toThrow(/would be \d+ bytes long; a UNIX socket path holds at most \d+: move the keystore/);
    await mkdir(deep, { mode: 0o700 });
    expect(await codeOf(ApprovalsServer.listen(deep, handler))).toBe('APPROVALS_SOCKET_PATH_TOO_LONG');
    expect(await codeOf(callApprovals(deep, { op: 'list' }))).toBe('APPROVALS_SOCKET_PATH_TOO_LONG');
  });

  it('tells the operator when no node is running on the keystore', async () => {
    const error = await callApprovals(keystore, { op: 'list' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'APPROVALS_UNAVAILABLE', message: expect.stringMatching(/no signer node is running/) as unknown });
  });

  it('answers BAD_REQUEST to a line that is not a request', async () => {
    server = await ApprovalsServer.listen(keystore, handler);
    const ask = (line: string) =>
      new Promise<unknown>((resolve, reject) => {
        const socket = connect(server!.path);
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(JSON.parse(text)));
        socket.on('error', reject);
        socket.write(`${line}\n`);
      });
    expect(await ask('not json')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(await ask(JSON.stringify({ op: 'approve', id: 'not-a-uuid' }))).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: expect.stringMatching(/^id:/) as unknown });
    expect(await ask(JSON.stringify({ op: 'reject', id: randomUUID() }))).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });
});

describe('the approval queue on disk', () => {
  it('keeps records encrypted in approvals/, and ignores one that was altered', async () => {
    const dir = await tempDir('rt-aq-');
    try {
      const keystore = await initTestKeystore(join(dir.path, 'ks'));
      const queue = await ApprovalQueue.open(keystore.approvalRecords);
      const requestId = randomUUID();
      const record: ApprovalRecord = {
        version: 1,
        requestId,
        suite: 'ed25519',
        threshold: 2,
        intent: {
          version: 1,
          keyId: randomUUID(),
          payload: { kind: 'text', text: 'pay 5 to bob' },
          chainId: null,
          sequence: null,
          deadline: Date.now() + 60_000,
          proposer: 'admin',
          description: 'a secret payroll',
          note: '',
        },
        intentHash: 'ab'.repeat(32),
        digest: 'cd'.repeat(12),
        evaluation: { outcome: 'ask', rule: 'big', reason: 'over 1000', policyHash: 'ef'.repeat(32) },
        receivedAt: Date.now(),
        decision: null,
      };
      await queue.add(record);
      const path = join(keystore.dir, 'approvals', `${requestId}.json`);
      const text = await readFile(path, 'utf8');
      expect(text).not.toContain('secret payroll');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await ApprovalQueue.open(keystore.approvalRecords)).get(requestId)).toEqual(record);
      const file = JSON.parse(text) as { ciphertext: string };
      const bytes = Buffer.from(file.ciphertext, 'base64');
      bytes[0] = bytes[0]! ^ 1;
      await writeFile(path, JSON.stringify({ ...file, ciphertext: bytes.toString('base64') }));
      expect((await ApprovalQueue.open(keystore.approvalRecords)).get(requestId)).toBeUndefined();
    } finally {
      await dir.cleanup();
    }
  });
});

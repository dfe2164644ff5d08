import { describe, expect, it } from 'vitest';
import { decodeCoordinatorFrame, decodeNodeFrame, encodeFrame, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, packageFits } from './index.js';

const uuid = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
const commitment = {
  identifier: '00'.repeat(31) + '01',
  hiding: '02' + 'ab'.repeat(32),
  binding: '03' + 'cd'.repeat(32),
};
const decision = {
  requestId: uuid,
  intentHash: '11'.repeat(32),
  verdict: 'approve',
  by: 'policy',
  policyHash: '22'.repeat(32),
  rule: null,
  reason: 'allowed',
  decidedAt: 1,
  signature: 'dd'.repeat(64),
} as const;

describe('wire protocol', () => {
  it('round-trips every node frame through encode and decode', () => {
    const frames = [
      { type: 'auth.response', publicKey: 'aa'.repeat(32), signature: 'bb'.repeat(64) },
      { type: 'auth.response', publicKey: 'aa'.repeat(32), signature: 'bb'.repeat(64), policyHash: '22'.repeat(32) },
      { type: 'request.commit', requestId: uuid, commitment, decision },
      { type: 'request.decline', requestId: uuid, code: 'POLICY_DENIED', reason: 'no', decision: { ...decision, verdict: 'decline' } },
      { type: 'request.decline', requestId: uuid, code: 'KEY_NOT_HELD', reason: 'no share' },
      { type: 'request.awaiting', requestId: uuid, intentHash: '11'.repeat(32), policyHash: '22'.repeat(32), rule: 'ask-rule', reason: 'ask' },
      { type: 'attempt.share', requestId: uuid, attemptId: uuid, share: 'cc'.repeat(32), nextCommitment: commitment },
      { type: 'attempt.refuse', requestId: uuid, attemptId: uuid, code: 'MESSAGE_MISMATCH', reason: 'differs' },
    ] as const;
    for (const f of frames) {
      const decoded = decodeNodeFrame(encodeFrame(f));
      expect(decoded).toEqual({ ok: true, frame: { v: 1, ...f } });
    }
  });

  it('round-trips coordinator frames', () => {
    const f = { type: 'attempt.package' as const, requestId: uuid, attemptId: uuid, keyId: uuid, message: 'beef', commitments: [commitment], deadline: 1 };
    expect(decodeCoordinatorFrame(encodeFrame(f))).toEqual({ ok: true, frame: { v: 1, ...f } });
  });

  it('refuses malformed JSON, unknown types, wrong types and extra fields with typed errors', () => {
    const bad = decodeNodeFrame('{not json');
    expect(bad.ok || bad.error.code).toBe('MALFORMED_FRAME');

    const unknown = decodeNodeFrame(JSON.stringify({ v: 1, type: 'sign.everything' }));
    expect(unknown.ok || [unknown.error.code, unknown.error.frameType]).toEqual(['MALFORMED_FRAME', 'sign.everything']);

    const wrongType = decodeNodeFrame(JSON.stringify({ v: 1, type: 'request.commit', requestId: 42, commitment }));
    expect(wrongType.ok || wrongType.error.message).toMatch(/requestId/);

    const extra = decodeNodeFrame(JSON.stringify({ v: 1, type: 'request.commit', requestId: uuid, commitment, nodeId: uuid }));
    expect(extra.ok).toBe(false);

    const upper = decodeNodeFrame(JSON.stringify({ v: 1, type: 'request.commit', requestId: uuid, commitment: { ...commitment, hiding: commitment.hiding.toUpperCase() } }));
    expect(upper.ok).toBe(false);
  });

  it('names the version when it is not 1', () => {
    const r = decodeNodeFrame(JSON.stringify({ v: 2, type: 'request.commit', requestId: uuid, commitment }));
    expect(r.ok || r.error.code).toBe('UNSUPPORTED_VERSION');
  });

  it('refuses frames over the size limit', () => {
    const big = JSON.stringify({ v: 1, type: 'request.decline', requestId: uuid, code: 'POLICY_DENIED', reason: 'x'.repeat(MAX_FRAME_BYTES) });
    const r = decodeNodeFrame(big);
    expect(r.ok || r.error.message).toMatch(/exceeds/);
  });

  it('carries request and attempt ids of a refused frame when they can be read', () => {
    const r = decodeNodeFrame(JSON.stringify({ v: 1, type: 'attempt.share', requestId: uuid, attemptId: uuid, share: 'zz' }));
    expect(r.ok || [r.error.requestId, r.error.attemptId]).toEqual([uuid, uuid]);
  });
});

describe('package size bound', () => {
  it('admits the largest message for small signer sets and refuses packages that cannot fit in a frame', () => {
    const secp = { identifierBytes: 32, elementBytes: 33 };
    expect(packageFits(MAX_MESSAGE_BYTES, 2, secp)).toBe(true);
    expect(packageFits(MAX_MESSAGE_BYTES, 255, secp)).toBe(false);
    expect(packageFits(1, 255, secp)).toBe(true);
    // The bound is honest: a real package of 255 secp256k1 commitments and a 1-byte message is under 64 KiB.
    const c = { identifier: 'ab'.repeat(32), hiding: '02' + 'cd'.repeat(32), binding: '03' + 'ef'.repeat(32) };
    const frame = encodeFrame({ type: 'attempt.package', requestId: uuid, attemptId: uuid, keyId: uuid, message: 'ff', commitments: Array.from({ length: 255 }, () => c), deadline: Date.now() });
    expect(Buffer.byteLength(frame)).toBeLessThan(MAX_FRAME_BYTES);
  });
});

import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '#crypto';
import { describe, expect, it } from 'vitest';
import { CheckpointError, noteKeyHash, openCheckpoint, signCheckpoint, verifierKey } from './checkpoint.js';
import { EMPTY_TREE_HASH } from './merkle.js';

const secretKey = ed25519.utils.randomSecretKey();
const publicKey = ed25519.getPublicKey(secretKey);

describe('signed checkpoints', () => {
  it('writes the C2SP tlog-checkpoint body and one signed-note signature line', () => {
    const note = signCheckpoint({ origin: 'example.com/log', size: 0, root: EMPTY_TREE_HASH }, { name: 'example.com', secretKey });
    const [body, sig] = note.split('\n\n') as [string, string];
    expect(body).toBe('example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    const m = /^\u2014 example\.com ([A-Za-z0-9+/=]+)\n$/u.exec(sig);
    expect(m).not.toBeNull();
    const blob = Buffer.from(m![1]!, 'base64');
    expect(blob).toHaveLength(68);
    expect(bytesToHex(blob.subarray(0, 4))).toBe(bytesToHex(noteKeyHash('example.com', publicKey)));
    expect(ed25519.verify(blob.subarray(4), new TextEncoder().encode(`${body}\n`), publicKey)).toBe(true);
  });

  it('computes the key hash over name, newline, 0x01 and the public key', () => {
    const pk = new Uint8Array(32).fill(7);
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('n\n'), Buffer.from([1]), pk])).digest().subarray(0, 4);
    expect(Buffer.from(noteKeyHash('n', pk))).toEqual(expected);
    expect(verifierKey('n', pk)).toBe(`n+${expected.toString('hex')}+${Buffer.concat([Buffer.from([1]), pk]).toString('base64')}`);
  });

  it('opens what it signs and refuses another key, a tampered body, or a bad name', () => {
    const root = new Uint8Array(32).fill(9);
    const note = signCheckpoint({ origin: 'o', size: 42, root }, { name: 'k', secretKey });
    expect(openCheckpoint(note, publicKey)).toEqual({ origin: 'o', size: 42, root, keyName: 'k' });
    expect(openCheckpoint(note, publicKey, 'k').size).toBe(42);
    expect(() => openCheckpoint(note, publicKey, 'other')).toThrow(/not signed by the log key/);
    expect(() => openCheckpoint(note, ed25519.getPublicKey(ed25519.utils.randomSecretKey()))).toThrow(CheckpointError);
    expect(() => openCheckpoint(note.replace('\n42\n', '\n43\n'), publicKey)).toThrow(/bad signature/);
    expect(() => openCheckpoint('o\n1\n', publicKey)).toThrow(/not a signed note/);
    expect(() => signCheckpoint({ origin: 'o', size: 1, root }, { name: 'a b', secretKey })).toThrow(/key name/);
  });
});


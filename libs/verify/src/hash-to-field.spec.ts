import { describe, expect, it } from 'vitest';
import { expandMessageXmdSha256, hashToFieldXmdSha256 } from './hash-to-field.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RFC 9380 expand_message_xmd (SHA-256), Appendix K.1 vectors', () => {
  const dst = utf8('QUUX-V01-CS02-with-expander-SHA256-128');
  it.each([
    ['', 0x20, '68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235'],
    ['abc', 0x20, 'd8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615'],
    [
      '',
      0x80,
      'af84c27ccfd45d41914fdff5df25293e221afc53d8ad2ac06d5e3e29485dadbee0d121587713a3e0dd4d5e69e93eb7cd4f5df4cd103e188cf60cb02edc3edf18eda8576c412b18ffb658e3dd6ec849469b979d444cf7b26911a08e63cf31f9dcc541708d3491184472c2c29bb749d4286b004ceb5ee6b9a7fa5b646c993f0ced',
    ],
    [
      'abc',
      0x80,
      'abba86a6129e366fc877aab32fc4ffc70120d8996c88aee2fe4b32d6c7b6437a647e6c3163d40b76a73cf6a5674ef1d890f95b664ee0afa5359a5c4e07985635bbecbac65d747d3d2da7ec2b8221b17b0ca9dc8a1ac1c07ea6a1e60583e2cb00058e77b7b72a298425cd1b941ad4ec65e8afc50303a22c0f99b0509b4c895f40',
    ],
  ] as const)('msg %j, len_in_bytes %i', (msg, len, expected) => {
    expect(hex(expandMessageXmdSha256(utf8(msg), dst, len))).toBe(expected);
  });

  it('aborts where the RFC does', () => {
    expect(expandMessageXmdSha256(utf8('abc'), dst, 255 * 32)).toHaveLength(255 * 32);
    expect(() => expandMessageXmdSha256(utf8('abc'), dst, 255 * 32 + 1)).toThrow(RangeError);
    expect(() => expandMessageXmdSha256(utf8('abc'), new Uint8Array(256), 32)).toThrow(RangeError);
    expect(() => expandMessageXmdSha256(utf8('abc'), dst, 1.5)).toThrow(RangeError);
  });

  it('hash_to_field reads the output big-endian and reduces it', () => {
    const out = expandMessageXmdSha256(utf8('abc'), dst, 48);
    const value = BigInt(`0x${hex(out)}`);
    const modulus = 2n ** 255n - 19n;
    expect(hashToFieldXmdSha256(utf8('abc'), dst, 48, modulus)).toBe(value % modulus);
    expect(hashToFieldXmdSha256(utf8('abc'), dst, 48, 2n ** 400n)).toBe(value);
  });
});

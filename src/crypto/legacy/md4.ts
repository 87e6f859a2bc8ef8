// MD4 message digest (RFC 1320), in pure TypeScript: Node 20's OpenSSL 3 refuses MD4 without the
// legacy provider, yet MS-CHAPv2 (RFC 2759 §8.3/§8.4) and MPPE keys (RFC 3079 §3.4) need it.
// MD4 is broken as a general hash; use it only where those protocols require it.

const A0 = 0x67452301, B0 = 0xefcdab89, C0 = 0x98badcfe, D0 = 0x10325476

function rotl(x: number, s: number): number { return (x << s) | (x >>> (32 - s)) }

/** Processes one 64-byte block at `off` into state (RFC 1320 §3.4, rounds 1–3). */
function block(st: Uint32Array, m: Uint8Array, off: number, x: Uint32Array): void {
  // §3.4: the block is sixteen little-endian 32-bit words.
  for (let i = 0; i < 16; i++) {
    const o = off + i * 4
    x[i] = m[o]! | (m[o + 1]! << 8) | (m[o + 2]! << 16) | (m[o + 3]! << 24)
  }
  let a = st[0]!, b = st[1]!, c = st[2]!, d = st[3]!
  // Round 1: F(X,Y,Z) = XY v not(X) Z; [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s
  for (let i = 0; i < 16; i += 4) {
    a = rotl((a + ((b & c) | (~b & d)) + x[i]!) | 0, 3)
    d = rotl((d + ((a & b) | (~a & c)) + x[i + 1]!) | 0, 7)
    c = rotl((c + ((d & a) | (~d & b)) + x[i + 2]!) | 0, 11)
    b = rotl((b + ((c & d) | (~c & a)) + x[i + 3]!) | 0, 19)
  }
  // Round 2: G(X,Y,Z) = XY v XZ v YZ; a = (a + G(b,c,d) + X[k] + 5A827999) <<< s, k = i, i+4, i+8, i+12
  for (let i = 0; i < 4; i++) {
    a = rotl((a + ((b & c) | (b & d) | (c & d)) + x[i]! + 0x5a827999) | 0, 3)
    d = rotl((d + ((a & b) | (a & c) | (b & c)) + x[i + 4]! + 0x5a827999) | 0, 5)
    c = rotl((c + ((d & a) | (d & b) | (a & b)) + x[i + 8]! + 0x5a827999) | 0, 9)
    b = rotl((b + ((c & d) | (c & a) | (d & a)) + x[i + 12]! + 0x5a827999) | 0, 13)
  }
  // Round 3: H(X,Y,Z) = X xor Y xor Z; a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s, k in bit-reversed order
  for (const i of [0, 2, 1, 3]) {
    a = rotl((a + (b ^ c ^ d) + x[i]! + 0x6ed9eba1) | 0, 3)
    d = rotl((d + (a ^ b ^ c) + x[i + 8]! + 0x6ed9eba1) | 0, 9)
    c = rotl((c + (d ^ a ^ b) + x[i + 4]! + 0x6ed9eba1) | 0, 11)
    b = rotl((b + (c ^ d ^ a) + x[i + 12]! + 0x6ed9eba1) | 0, 15)
  }
  st[0] = (st[0]! + a) | 0; st[1] = (st[1]! + b) | 0; st[2] = (st[2]! + c) | 0; st[3] = (st[3]! + d) | 0
}

/** MD4 of `data` (any length): a fresh 16-byte digest. Does not modify `data`. */
export function md4(data: Uint8Array): Uint8Array {
  const st = new Uint32Array([A0, B0, C0, D0])
  const x = new Uint32Array(16)
  const full = data.length - (data.length % 64)
  for (let off = 0; off < full; off += 64) block(st, data, off, x)
  // §3.1–3.2: append 0x80, zeros to 56 mod 64, then the bit length as a 64-bit little-endian word.
  const tailLen = data.length - full
  const tail = new Uint8Array(tailLen < 56 ? 64 : 128)
  tail.set(data.subarray(full))
  tail[tailLen] = 0x80
  const bitsLo = (data.length * 8) >>> 0
  const bitsHi = Math.floor(data.length / 0x20000000) >>> 0
  const p = tail.length - 8
  for (let i = 0; i < 4; i++) { tail[p + i] = (bitsLo >>> (8 * i)) & 0xff; tail[p + 4 + i] = (bitsHi >>> (8 * i)) & 0xff }
  for (let off = 0; off < tail.length; off += 64) block(st, tail, off, x)
  // §3.5: output A, B, C, D, each little-endian.
  const out = new Uint8Array(16)
  for (let i = 0; i < 4; i++) {
    const w = st[i]!
    out[i * 4] = w & 0xff; out[i * 4 + 1] = (w >>> 8) & 0xff; out[i * 4 + 2] = (w >>> 16) & 0xff; out[i * 4 + 3] = (w >>> 24) & 0xff
  }
  return out
}

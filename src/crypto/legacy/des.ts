// DES single-block encryption and decryption (FIPS 46-3), pure TypeScript, plus the 56-bit key
// expansion MS-CHAP uses (RFC 2759 §8.6 DesEncrypt, RFC 2433 §A.8). Node 20's OpenSSL 3 refuses DES;
// MS-CHAPv1/v2 need exactly three single-block encryptions per authentication, so speed is secondary.

// FIPS 46-3 tables, 1-based bit numbers with bit 1 the most significant bit.
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
  62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
  61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
] as const
const E = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
  16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
] as const
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
  2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
] as const
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
  10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
  14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
] as const
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
] as const
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1] as const
// S-boxes S1..S8, each 4 rows of 16, indexed [row * 16 + column].
const S = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
] as const

/** Unpacks bytes into an array of bits (MSB first), one 0/1 per entry. */
function toBits(bytes: Uint8Array, n: number): Uint8Array {
  const bits = new Uint8Array(n)
  for (let i = 0; i < n; i++) bits[i] = (bytes[i >>> 3]! >>> (7 - (i & 7))) & 1
  return bits
}
function permute(bits: Uint8Array, table: readonly number[]): Uint8Array {
  const out = new Uint8Array(table.length)
  for (let i = 0; i < table.length; i++) out[i] = bits[table[i]! - 1]!
  return out
}

/** The sixteen 48-bit round subkeys (as bit arrays) for an 8-byte key; parity bits are ignored. */
function keySchedule(key: Uint8Array): Uint8Array[] {
  if (key.length !== 8) throw new RangeError(`DES key must be 8 bytes, got ${key.length}`)
  const cd = permute(toBits(key, 64), PC1)
  const c = cd.subarray(0, 28), d = cd.subarray(28, 56)
  const subkeys: Uint8Array[] = []
  const rot = (h: Uint8Array, n: number): void => {
    const head = h.slice(0, n)
    h.copyWithin(0, n)
    h.set(head, 28 - n)
  }
  for (const s of SHIFTS) {
    rot(c, s)
    rot(d, s)
    subkeys.push(permute(cd, PC2))
  }
  return subkeys
}

/** The cipher function f(R, K): expansion, key mix, S-boxes, permutation P (FIPS 46-3). */
function f(r: Uint8Array, k: Uint8Array): Uint8Array {
  const e = permute(r, E)
  const out = new Uint8Array(32)
  for (let box = 0; box < 8; box++) {
    const b = (i: number): number => e[box * 6 + i]! ^ k[box * 6 + i]!
    const row = (b(0) << 1) | b(5)
    const col = (b(1) << 3) | (b(2) << 2) | (b(3) << 1) | b(4)
    const v = S[box]![row * 16 + col]!
    for (let i = 0; i < 4; i++) out[box * 4 + i] = (v >>> (3 - i)) & 1
  }
  return permute(out, P)
}

const FP: number[] = (() => {
  const inv = new Array<number>(64)
  IP.forEach((src, i) => { inv[src - 1] = i + 1 })
  return inv
})()

function crypt(key: Uint8Array, block: Uint8Array, decrypt: boolean): Uint8Array {
  if (block.length !== 8) throw new RangeError(`DES block must be 8 bytes, got ${block.length}`)
  const ks = keySchedule(key)
  const lr = permute(toBits(block, 64), IP)
  let l = lr.slice(0, 32), r = lr.slice(32, 64)
  for (let round = 0; round < 16; round++) {
    const fk = f(r, ks[decrypt ? 15 - round : round]!)
    const next = new Uint8Array(32)
    for (let i = 0; i < 32; i++) next[i] = l[i]! ^ fk[i]!
    l = r
    r = next
  }
  // The pre-output block is R16 L16 (the halves are swapped after the last round).
  const preout = new Uint8Array(64)
  preout.set(r, 0)
  preout.set(l, 32)
  const bits = permute(preout, FP)
  const out = new Uint8Array(8)
  for (let i = 0; i < 64; i++) out[i >>> 3]! |= bits[i]! << (7 - (i & 7))
  return out
}

/** DES-encrypts one 8-byte block under an 8-byte key (parity bits ignored). Fresh 8-byte result. */
export function desEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array { return crypt(key, block, false) }
/** DES-decrypts one 8-byte block under an 8-byte key (parity bits ignored). Fresh 8-byte result. */
export function desDecryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array { return crypt(key, block, true) }

/**
 * Spreads a 7-byte (56-bit) key over 8 bytes, seven key bits per byte in the high bits, and sets
 * each low bit to odd parity — the expansion RFC 2759 §8.6 "DesEncrypt" and RFC 2433 §A.8 assume
 * ("Use the DES encryption algorithm [4] in ECB mode ... to encrypt Clear into Cypher such that
 * Cypher can only be decrypted back to Clear by providing Key").
 */
export function expandDesKey56(key7: Uint8Array): Uint8Array {
  if (key7.length !== 7) throw new RangeError(`56-bit DES key must be 7 bytes, got ${key7.length}`)
  const out = new Uint8Array(8)
  for (let i = 0; i < 8; i++) {
    // Bits 7i .. 7i+6 of the 56-bit string become the top seven bits of out[i].
    let v = 0
    for (let b = 0; b < 7; b++) {
      const bit = 7 * i + b
      v = (v << 1) | ((key7[bit >>> 3]! >>> (7 - (bit & 7))) & 1)
    }
    let ones = 0
    for (let t = v; t; t >>= 1) ones += t & 1
    out[i] = (v << 1) | (ones & 1 ? 0 : 1)
  }
  return out
}

/** RFC 2759 §8.6 DesEncrypt(Clear 8 octets, Key 7 octets): DES-ECB of one block under a 56-bit key. */
export function desEncrypt56(clear: Uint8Array, key7: Uint8Array): Uint8Array {
  return desEncryptBlock(expandDesKey56(key7), clear)
}

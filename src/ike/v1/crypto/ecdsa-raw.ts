// ECDSA over a caller-supplied digest (no hashing inside) for P-256, P-384, P-521 (FIPS 186-4 §6.4, SEC 1
// §4.1.3/§4.1.4), with deterministic k (RFC 6979 §3.2). IKEv1 signs HASH_I/HASH_R itself this way, as
// strongSwan's SIGN_ECDSA_WITH_NULL does; node:crypto always hashes its input, so this is BigInt code.
import { createHmac } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

export interface Curve {
  readonly name: 'P-256' | 'P-384' | 'P-521'
  readonly p: bigint
  readonly n: bigint
  readonly b: bigint
  readonly gx: bigint
  readonly gy: bigint
  /** Field/order size in bytes (r and s are each this long on the wire, RFC 4754 §7). */
  readonly bytes: number
  /** The HMAC hash RFC 6979 uses to draw k for this curve. */
  readonly hmac: 'sha256' | 'sha384' | 'sha512'
}

const h = (s: string): bigint => BigInt('0x' + s)
/** FIPS 186-4 App. D.1.2.3 (a = -3). */
export const P256: Curve = {
  name: 'P-256', bytes: 32, hmac: 'sha256',
  p: h('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'),
  n: h('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  b: h('5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
  gx: h('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296'),
  gy: h('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5'),
}
/** FIPS 186-4 App. D.1.2.4 (a = -3). */
export const P384: Curve = {
  name: 'P-384', bytes: 48, hmac: 'sha384',
  p: h('fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff'),
  n: h('ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  b: h('b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef'),
  gx: h('aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7'),
  gy: h('3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f'),
}

/** FIPS 186-4 App. D.1.2.5 (a = -3, p = 2^521 - 1). */
export const P521: Curve = {
  name: 'P-521', bytes: 66, hmac: 'sha512',
  p: (1n << 521n) - 1n,
  n: h('01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
  b: h('0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00'),
  gx: h('00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66'),
  gy: h('011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650'),
}

type Jac = readonly [bigint, bigint, bigint] // Jacobian X, Y, Z; Z = 0 is the point at infinity
const INF: Jac = [1n, 1n, 0n]
const mod = (a: bigint, m: bigint): bigint => { const r = a % m; return r < 0n ? r + m : r }

function inv(a: bigint, m: bigint): bigint {
  // Fermat: m is prime for both the field and the group order.
  let r = 1n, b = mod(a, m), e = m - 2n
  while (e > 0n) { if (e & 1n) r = (r * b) % m; b = (b * b) % m; e >>= 1n }
  return r
}

function double(c: Curve, [x, y, z]: Jac): Jac {
  if (z === 0n || y === 0n) return INF
  const p = c.p
  // a = -3: M = 3(X - Z²)(X + Z²)
  const zz = (z * z) % p
  const m = (3n * mod(x - zz, p) * ((x + zz) % p)) % p
  const yy = (y * y) % p
  const s = (4n * x * yy) % p
  const x3 = mod(m * m - 2n * s, p)
  const y3 = mod(m * (s - x3) - 8n * yy * yy, p)
  return [x3, y3, (2n * y * z) % p]
}

function add(c: Curve, a: Jac, b: Jac): Jac {
  if (a[2] === 0n) return b
  if (b[2] === 0n) return a
  const p = c.p
  const z1z1 = (a[2] * a[2]) % p, z2z2 = (b[2] * b[2]) % p
  const u1 = (a[0] * z2z2) % p, u2 = (b[0] * z1z1) % p
  const s1 = (a[1] * b[2] * z2z2) % p, s2 = (b[1] * a[2] * z1z1) % p
  if (u1 === u2) return s1 === s2 ? double(c, a) : INF
  const hh = mod(u2 - u1, p), r = mod(s2 - s1, p)
  const h2 = (hh * hh) % p, h3 = (h2 * hh) % p, v = (u1 * h2) % p
  const x3 = mod(r * r - h3 - 2n * v, p)
  const y3 = mod(r * (v - x3) - s1 * h3, p)
  return [x3, y3, (a[2] * b[2] * hh) % p]
}

/** k·P by a Montgomery ladder (the same operations for every bit; BigInt itself is not constant-time). */
function multiply(c: Curve, k: bigint, x: bigint, y: bigint): Jac {
  let r0: Jac = INF, r1: Jac = [x, y, 1n]
  for (let i = BigInt(c.n.toString(2).length - 1); i >= 0n; i--) {
    if ((k >> i) & 1n) { r0 = add(c, r0, r1); r1 = double(c, r1) } else { r1 = add(c, r0, r1); r0 = double(c, r0) }
  }
  return r0
}

function affine(c: Curve, [x, y, z]: Jac): { x: bigint; y: bigint } | undefined {
  if (z === 0n) return undefined
  const zi = inv(z, c.p), zi2 = (zi * zi) % c.p
  return { x: (x * zi2) % c.p, y: (y * zi2 * zi) % c.p }
}

function onCurve(c: Curve, x: bigint, y: bigint): boolean {
  if (x < 0n || x >= c.p || y < 0n || y >= c.p) return false
  return mod(y * y - (x * x * x - 3n * x + c.b), c.p) === 0n
}

const toInt = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex')))
function toBytes(v: bigint, len: number): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex'))
}
/** SEC 1 §4.1.3 step 5 / RFC 6979 §2.3.2 bits2int: the leftmost bitlen(n) bits of the digest. */
function bits2int(c: Curve, d: Uint8Array): bigint {
  const v = toInt(d), excess = d.length * 8 - c.n.toString(2).length
  return excess > 0 ? v >> BigInt(excess) : v
}

/** The public point d·G (tests and key checks). */
export function publicPoint(c: Curve, d: bigint): { x: bigint; y: bigint } {
  return affine(c, multiply(c, d, c.gx, c.gy))!
}

/** RFC 6979 §3.2: the candidates for k from HMAC_DRBG(private key, digest), in order (step h). */
export function* deterministicK(c: Curve, d: bigint, digest: Uint8Array): Generator<bigint, never> {
  const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Uint8Array => {
    const m = createHmac(c.hmac, key); for (const p of parts) m.update(p); return new Uint8Array(m.digest())
  }
  const hlen = c.hmac === 'sha256' ? 32 : c.hmac === 'sha384' ? 48 : 64
  const x = toBytes(d, c.bytes), h1 = toBytes(mod(bits2int(c, digest), c.n), c.bytes)
  let v: Uint8Array = new Uint8Array(hlen).fill(1), k: Uint8Array = new Uint8Array(hlen)
  k = hmac(k, v, Uint8Array.of(0), x, h1); v = hmac(k, v)
  k = hmac(k, v, Uint8Array.of(1), x, h1); v = hmac(k, v)
  x.fill(0)
  for (;;) {
    const t = new Uint8Array(Math.ceil(c.bytes / hlen) * hlen)
    for (let o = 0; o < c.bytes; o += hlen) { v = hmac(k, v); t.set(v, o) }
    const cand = bits2int(c, t.subarray(0, c.bytes))
    if (cand >= 1n && cand < c.n) yield cand
    k = hmac(k, v, Uint8Array.of(0)); v = hmac(k, v)
  }
}

/**
 * Signs `digest` as given (SEC 1 §4.1.3 with e = leftmost bitlen(n) bits), r | s fixed-length.
 * `k` is for vector tests only; without it k is deterministic (RFC 6979). Throws RangeError for a
 * private key outside [1, n-1] (a configuration bug) or a test `k` that gives r or s = 0.
 */
export function signDigest(c: Curve, d: bigint, digest: Uint8Array, k?: bigint): Uint8Array {
  if (d < 1n || d >= c.n) throw new RangeError(`${c.name}: private key out of range`)
  const e = bits2int(c, digest)
  const ks: Iterator<bigint> = k === undefined ? deterministicK(c, d, digest) : [k][Symbol.iterator]()
  for (let next = ks.next(); !next.done; next = ks.next()) {
    const kk = next.value
    const pt = affine(c, multiply(c, kk, c.gx, c.gy))
    const r = pt ? pt.x % c.n : 0n
    if (r === 0n) continue
    const s = (inv(kk, c.n) * ((e + r * d) % c.n)) % c.n
    if (s === 0n) continue
    const out = new Uint8Array(2 * c.bytes)
    out.set(toBytes(r, c.bytes)); out.set(toBytes(s, c.bytes), c.bytes)
    return out
  }
  throw new RangeError(`${c.name}: k gives r or s = 0`)
}

/** SEC 1 §4.1.4 over `digest` as given. Never throws: a malformed signature or point is false. */
export function verifyDigest(c: Curve, q: { x: bigint; y: bigint }, digest: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 2 * c.bytes || !onCurve(c, q.x, q.y)) return false
  const r = toInt(sig.subarray(0, c.bytes)), s = toInt(sig.subarray(c.bytes))
  if (r < 1n || r >= c.n || s < 1n || s >= c.n) return false
  const w = inv(s, c.n), e = bits2int(c, digest)
  const u1 = (e * w) % c.n, u2 = (r * w) % c.n
  const pt = affine(c, add(c, multiply(c, u1, c.gx, c.gy), multiply(c, u2, q.x, q.y)))
  return pt !== undefined && pt.x % c.n === r
}

/** The curve of a node EC KeyObject (P-256, P-384, P-521), or undefined for any other key. */
export function curveOf(key: KeyObject): Curve | undefined {
  const n = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined
  return n === 'prime256v1' ? P256 : n === 'secp384r1' ? P384 : n === 'secp521r1' ? P521 : undefined
}

function jwkInt(v: string | undefined): bigint { return v ? toInt(Uint8Array.from(Buffer.from(v, 'base64url'))) : 0n }

/** Signs with a node private EC key (P-256/P-384/P-521); undefined for another key type. */
export function signDigestWithKey(key: KeyObject, digest: Uint8Array): Uint8Array | undefined {
  const c = curveOf(key)
  if (!c || key.type !== 'private') return undefined
  return signDigest(c, jwkInt(key.export({ format: 'jwk' }).d), digest)
}

/** Verifies with a node EC key (public, or the public half of a private one); false for anything else. */
export function verifyDigestWithKey(key: KeyObject, digest: Uint8Array, sig: Uint8Array): boolean {
  const c = curveOf(key)
  if (!c) return false
  const j = key.export({ format: 'jwk' })
  return verifyDigest(c, { x: jwkInt(j.x), y: jwkInt(j.y) }, digest, sig)
}

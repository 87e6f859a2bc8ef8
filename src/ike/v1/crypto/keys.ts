// IKEv1 key derivation and authentication hashes (RFC 2409 §5, §5.5, §5.7, Appendix B) and the NAT-D
// hash (RFC 3947 §3.2). Pure functions over bytes; callers zero what they no longer need.
import { hash, prf } from './algorithms.js'
import type { IkeHash } from './algorithms.js'

/** RFC 2409 §5: "For pre-shared keys: SKEYID = prf(pre-shared-key, Ni_b | Nr_b)". */
export function skeyidPsk(h: IkeHash, psk: Uint8Array, niB: Uint8Array, nrB: Uint8Array): Uint8Array {
  return prf(h, psk, niB, nrB)
}
/** RFC 2409 §5: "For signatures: SKEYID = prf(Ni_b | Nr_b, g^xy)". */
export function skeyidSig(h: IkeHash, niB: Uint8Array, nrB: Uint8Array, gxy: Uint8Array): Uint8Array {
  const key = new Uint8Array(niB.length + nrB.length)
  key.set(niB); key.set(nrB, niB.length)
  const out = prf(h, key, gxy)
  key.fill(0)
  return out
}

export interface Skeyids {
  readonly d: Uint8Array
  readonly a: Uint8Array
  readonly e: Uint8Array
}
/**
 * RFC 2409 §5: SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0), SKEYID_a = prf(SKEYID, SKEYID_d |
 * g^xy | CKY-I | CKY-R | 1), SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2).
 */
export function deriveSkeyids(h: IkeHash, skeyid: Uint8Array, gxy: Uint8Array, ckyI: Uint8Array, ckyR: Uint8Array): Skeyids {
  const d = prf(h, skeyid, gxy, ckyI, ckyR, Uint8Array.of(0))
  const a = prf(h, skeyid, d, gxy, ckyI, ckyR, Uint8Array.of(1))
  const e = prf(h, skeyid, a, gxy, ckyI, ckyR, Uint8Array.of(2))
  return { d, a, e }
}

/**
 * The phase 1 encryption key (RFC 2409 Appendix B). When SKEYID_e is long enough its leading bytes
 * are the key; otherwise "Ka = K1 | K2 | K3 ... where K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1) ..."
 * (0 is one zero octet) and the key is the leading bytes of Ka.
 */
export function encryptionKey(h: IkeHash, skeyidE: Uint8Array, keyLength: number): Uint8Array {
  if (skeyidE.length >= keyLength) return skeyidE.slice(0, keyLength)
  const out = new Uint8Array(keyLength)
  let k = prf(h, skeyidE, Uint8Array.of(0))
  let n = 0
  for (;;) {
    const take = Math.min(k.length, keyLength - n)
    out.set(k.subarray(0, take), n)
    n += take
    if (n >= keyLength) break
    const next = prf(h, skeyidE, k)
    k.fill(0)
    k = next
  }
  k.fill(0)
  return out
}

/**
 * The Quick Mode KEYMAT expansion (RFC 2409 §5.5): K1 = prf(key, seed), K2 = prf(key, K1 | seed),
 * K3 = prf(key, K2 | seed) ...; returns the first `length` bytes of K1 | K2 | ... (always computes K1,
 * even when `length` is shorter than one prf output).
 */
export function expandKeymat(h: IkeHash, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let prev: Uint8Array | undefined
  let n = 0
  while (n < length || prev === undefined) {
    const k: Uint8Array = prev ? prf(h, key, prev, seed) : prf(h, key, seed)
    const take = Math.min(k.length, length - n)
    out.set(k.subarray(0, take), n)
    n += take
    prev?.fill(0)
    prev = k
  }
  prev.fill(0)
  return out
}

/**
 * KEYMAT for one SA direction (RFC 2409 §5.5): "KEYMAT = prf(SKEYID_d, protocol | SPI | Ni_b | Nr_b)",
 * with PFS "prf(SKEYID_d, g(qm)^xy | protocol | SPI | Ni_b | Nr_b)", expanded as above. `spi` is the
 * SPI of the receiving side of that direction (the SPI that side chose for its inbound SA).
 */
export function quickModeKeymat(h: IkeHash, skeyidD: Uint8Array, args: { protocol: number; spi: Uint8Array; niB: Uint8Array; nrB: Uint8Array; gqmxy?: Uint8Array }, length: number): Uint8Array {
  const g = args.gqmxy ?? new Uint8Array(0)
  const seed = new Uint8Array(g.length + 1 + args.spi.length + args.niB.length + args.nrB.length)
  let o = 0
  seed.set(g, o); o += g.length
  seed[o++] = args.protocol
  seed.set(args.spi, o); o += args.spi.length
  seed.set(args.niB, o); o += args.niB.length
  seed.set(args.nrB, o)
  const out = expandKeymat(h, skeyidD, seed, length)
  seed.fill(0)
  return out
}

export interface Phase1HashInputs {
  readonly gxi: Uint8Array
  readonly gxr: Uint8Array
  readonly ckyI: Uint8Array
  readonly ckyR: Uint8Array
  /** The initiator's SA payload body (without the generic header), as sent: "SAi_b". */
  readonly saiB: Uint8Array
}
/** RFC 2409 §5: "HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b )". */
export function hashI(h: IkeHash, skeyid: Uint8Array, x: Phase1HashInputs, idiiB: Uint8Array): Uint8Array {
  return prf(h, skeyid, x.gxi, x.gxr, x.ckyI, x.ckyR, x.saiB, idiiB)
}
/** RFC 2409 §5: "HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b )". */
export function hashR(h: IkeHash, skeyid: Uint8Array, x: Phase1HashInputs, idirB: Uint8Array): Uint8Array {
  return prf(h, skeyid, x.gxr, x.gxi, x.ckyR, x.ckyI, x.saiB, idirB)
}

function mid(messageId: number): Uint8Array {
  return Uint8Array.of(messageId >>> 24, (messageId >>> 16) & 0xff, (messageId >>> 8) & 0xff, messageId & 0xff)
}
/**
 * RFC 2409 §5.5 "HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr )" and §5.7
 * "HASH(1) = prf(SKEYID_a, M-ID | N/D)": `rest` is every payload after the HASH payload, generic headers
 * included, exactly as on the wire.
 */
export function quickHash1(h: IkeHash, skeyidA: Uint8Array, messageId: number, rest: Uint8Array): Uint8Array {
  return prf(h, skeyidA, mid(messageId), rest)
}
/** RFC 2409 §5.5 "HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr )". */
export function quickHash2(h: IkeHash, skeyidA: Uint8Array, messageId: number, niB: Uint8Array, rest: Uint8Array): Uint8Array {
  return prf(h, skeyidA, mid(messageId), niB, rest)
}
/** RFC 2409 §5.5 "HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)" (0 is one zero octet). */
export function quickHash3(h: IkeHash, skeyidA: Uint8Array, messageId: number, niB: Uint8Array, nrB: Uint8Array): Uint8Array {
  return prf(h, skeyidA, Uint8Array.of(0), mid(messageId), niB, nrB)
}

/**
 * RFC 3947 §3.2: "HASH = HASH(CKY-I | CKY-R | IP | Port)" with the negotiated hash (not the prf);
 * `ip` is 4 or 16 bytes, `port` the UDP port in network order.
 */
export function natDetectionHash(h: IkeHash, ckyI: Uint8Array, ckyR: Uint8Array, ip: Uint8Array, port: number): Uint8Array {
  return hash(h, ckyI, ckyR, ip, Uint8Array.of((port >>> 8) & 0xff, port & 0xff))
}

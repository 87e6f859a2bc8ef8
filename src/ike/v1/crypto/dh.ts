// Diffie-Hellman for IKEv1 groups: MODP 1024 (RFC 2409 §6.2, group 2), MODP 2048 (RFC 3526 §3, group
// 14) with the RFC primes and generator 2; ECP 256/384 (RFC 5903 §3, groups 19/20) where the KE data is
// x | y and the shared secret is x only (RFC 5903 §7, §9 errata note).
// Curve25519 (RFC 8031 numbering, group 31; X25519 of RFC 7748) as strongSwan offers it first in IKEv1.
import { createDiffieHellman, createECDH, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { DiffieHellman, ECDH } from 'node:crypto'
import type { Rng } from '../../../crypto/rng.js'
import { OakleyGroup } from '../oakley.js'

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))

/** RFC 2409 §6.2 Second Oakley Group: 2^1024 - 2^960 - 1 + 2^64 * { [2^894 pi] + 129093 }. */
export const MODP_1024_PRIME = hex(`
  FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
  EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
  EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381 FFFFFFFF FFFFFFFF`)
/** RFC 3526 §3 2048-bit MODP Group: 2^2048 - 2^1984 - 1 + 2^64 * { [2^1918 pi] + 124476 }. */
export const MODP_2048_PRIME = hex(`
  FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD
  EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
  EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F
  83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
  E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
  15728E5A 8AACAA68 FFFFFFFF FFFFFFFF`)
export const MODP_GENERATOR = 2

export interface DhGroup {
  readonly id: number
  readonly name: string
  readonly kind: 'modp' | 'ecp' | 'x25519'
  /** KE payload data length: the prime length (MODP) or 2 * coordinate length (ECP). */
  readonly publicLength: number
  /** Shared secret length: the prime length (MODP) or one coordinate (ECP). */
  readonly sharedLength: number
  /** MODP: private exponent bytes drawn from the Rng. ECP: scalar bytes. */
  readonly privateLength: number
  readonly curve?: string
  readonly prime?: Uint8Array
}

/**
 * Supported groups. MODP private exponents are 256 bits (RFC 3526 §8 rates the 2048-bit group at
 * 110–160 bits of strength; twice that suffices, as strongSwan and libreswan also choose short exponents).
 */
export const DH_GROUPS: Readonly<Partial<Record<number, DhGroup>>> = {
  [OakleyGroup.Modp1024]: { id: 2, name: 'modp1024', kind: 'modp', publicLength: 128, sharedLength: 128, privateLength: 32, prime: MODP_1024_PRIME },
  [OakleyGroup.Modp2048]: { id: 14, name: 'modp2048', kind: 'modp', publicLength: 256, sharedLength: 256, privateLength: 32, prime: MODP_2048_PRIME },
  [OakleyGroup.Ecp256]: { id: 19, name: 'ecp256', kind: 'ecp', publicLength: 64, sharedLength: 32, privateLength: 32, curve: 'prime256v1' },
  [OakleyGroup.Ecp384]: { id: 20, name: 'ecp384', kind: 'ecp', publicLength: 96, sharedLength: 48, privateLength: 48, curve: 'secp384r1' },
  // RFC 8031 §2 (numbered for IKEv2; strongSwan and NetworkManager-l2tp offer it first in IKEv1 main mode too):
  // the KE data is the 32-byte u-coordinate, the shared secret the 32-byte X25519 output.
  [OakleyGroup.Curve25519]: { id: 31, name: 'curve25519', kind: 'x25519', publicLength: 32, sharedLength: 32, privateLength: 32 },
}

/** DER wrappers of a raw X25519 key (RFC 8410 §7 PKCS#8, §4 SubjectPublicKeyInfo): node:crypto takes keys only as objects. */
const X25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
function withPrefix(prefix: Uint8Array, raw: Uint8Array): Buffer { const b = Buffer.alloc(prefix.length + raw.length); b.set(prefix); b.set(raw, prefix.length); return b }

function leftPad(b: Uint8Array, n: number): Uint8Array {
  if (b.length === n) return b
  const out = new Uint8Array(n)
  out.set(b.subarray(Math.max(0, b.length - n)), Math.max(0, n - b.length))
  return out
}
function view(b: Buffer): Uint8Array { return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }

/** One side of a Diffie-Hellman exchange. Call destroy() once g^xy is derived (keys are zeroed as far as Node allows). */
export class DhExchange {
  readonly group: DhGroup
  /** Our KE payload data: RFC 2409 §5 "MUST be the length of the negotiated Diffie-Hellman group ... pre-pending the value with zeros". */
  readonly publicValue: Uint8Array
  private impl: DiffieHellman | ECDH | KeyObject | undefined
  private priv: Uint8Array

  /** Draws the private value from `rng` (fixed in tests). Throws RangeError for an unsupported group id (a configuration bug: proposals only name supported groups). */
  constructor(groupId: number, rng: Rng, privateValue?: Uint8Array) {
    const g = DH_GROUPS[groupId]
    if (!g) throw new RangeError(`DH group ${groupId} not supported`)
    this.group = g
    this.priv = privateValue ? new Uint8Array(privateValue) : rng.bytes(g.privateLength)
    if (g.kind === 'modp') {
      const dh = modpGroup(g)
      dh.setPrivateKey(this.priv)
      dh.generateKeys()
      this.impl = dh
      this.publicValue = leftPad(view(dh.getPublicKey()), g.publicLength)
    } else if (g.kind === 'x25519') {
      const der = withPrefix(X25519_PKCS8_PREFIX, this.priv)
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      der.fill(0)
      this.impl = key
      const spki = createPublicKey(key).export({ type: 'spki', format: 'der' })
      this.publicValue = new Uint8Array(spki.subarray(spki.length - 32))
    } else {
      const ec = createECDH(g.curve!)
      // A scalar outside [1, n-1] makes setPrivateKey throw; with 32/48 random bytes that is ~2^-32 likely
      // for P-256 and never for a vector, so the caller may simply retry with a new Rng draw.
      ec.setPrivateKey(this.priv)
      this.impl = ec
      this.publicValue = view(ec.getPublicKey()).slice(1) // drop the 0x04 uncompressed-point prefix: KE carries x | y
    }
  }

  /**
   * g^xy from the peer's KE data, or undefined when the value is unacceptable: wrong length, 0, 1,
   * p-1 or >= p for MODP (small-subgroup values), not on the curve for ECP. The result is padded to
   * the group length (MODP) or is the x coordinate (ECP).
   */
  computeShared(peer: Uint8Array): Uint8Array | undefined {
    const g = this.group
    if (!this.impl || peer.length !== g.publicLength) return undefined
    try {
      if (g.kind === 'modp') {
        if (!modpPublicOk(peer, g.prime!)) return undefined
        const dh = this.impl as DiffieHellman
        // The group object is shared: put our private value back first (nothing runs between these calls).
        dh.setPrivateKey(this.priv)
        return leftPad(view(dh.computeSecret(peer)), g.sharedLength)
      }
      if (g.kind === 'x25519') {
        const publicKey = createPublicKey({ key: withPrefix(X25519_SPKI_PREFIX, peer), format: 'der', type: 'spki' })
        const shared = view(diffieHellman({ privateKey: this.impl as KeyObject, publicKey }))
        // RFC 8031 §2.2 / RFC 7748 §6.1: an all-zero result means a small-order point: refuse it.
        return shared.every((b) => b === 0) ? undefined : shared
      }
      const point = new Uint8Array(peer.length + 1)
      point[0] = 0x04
      point.set(peer, 1)
      return leftPad(view((this.impl as ECDH).computeSecret(point)), g.sharedLength)
    } catch {
      return undefined
    }
  }

  destroy(): void {
    this.priv.fill(0)
    this.impl = undefined
  }
}

/**
 * One DiffieHellman object per MODP group for the whole process. Building one from a prime makes OpenSSL test
 * that prime (DH_check): 60-180 ms for the 1024-bit group on every exchange, which let any peer that sends
 * main mode 1 with group 2 keep the gateway busy. The object holds no state across uses that matters: each
 * exchange sets its own private value immediately before generateKeys/computeSecret, synchronously.
 */
const modpGroups = new Map<number, DiffieHellman>()
function modpGroup(g: DhGroup): DiffieHellman {
  let dh = modpGroups.get(g.id)
  if (!dh) { dh = createDiffieHellman(g.prime!, Uint8Array.of(MODP_GENERATOR)); modpGroups.set(g.id, dh) }
  return dh
}

/** 1 < y < p-1, compared as big-endian byte strings of equal length. */
function modpPublicOk(y: Uint8Array, p: Uint8Array): boolean {
  let big = 0n, pp = 0n
  for (const b of y) big = (big << 8n) | BigInt(b)
  for (const b of p) pp = (pp << 8n) | BigInt(b)
  return big > 1n && big < pp - 1n
}

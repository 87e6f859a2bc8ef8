// One ISAKMP SA (RFC 2408 §2.5.3, RFC 2409 §5): cookies, role, negotiated suite, SKEYID family, the
// phase 1 CBC IV chain and the per-message-ID IVs of later exchanges (RFC 2409 Appendix B).
import type { Endpoint } from '../../lib/endpoint.js'
import type { IkeCipher, IkeHash } from './crypto/algorithms.js'
import type { NatTDialect } from './vendor-ids.js'

export type IkeRole = 'initiator' | 'responder'
export type IkeSaState = 'connecting' | 'established' | 'dead'

/** The peer's phase 1 identity as it arrived in IDii/IDir (RFC 2407 §4.6.2). */
export interface IkeIdentity { readonly idType: number; readonly data: Uint8Array }

export interface IkeSaKeys {
  readonly hash: IkeHash
  readonly cipher: IkeCipher
  readonly skeyid: Uint8Array
  readonly d: Uint8Array
  readonly a: Uint8Array
  readonly e: Uint8Array
  /** The phase 1 cipher key (App. B: leading bytes of SKEYID_e, or of Ka when too short). */
  readonly encKey: Uint8Array
}

export interface NatTState {
  readonly dialect: NatTDialect
  readonly localBehindNat: boolean
  readonly peerBehindNat: boolean
}

/** Cookies as the lowercase hex of CKY-I followed by CKY-R: the SA's name in events and logs. */
export function cookieName(ckyI: Uint8Array, ckyR: Uint8Array): string {
  return Buffer.from(ckyI).toString('hex') + Buffer.from(ckyR).toString('hex')
}

export class IkeSaV1 {
  readonly role: IkeRole
  readonly ckyI: Uint8Array
  /** All zero until main mode 2 names it (initiator side). */
  ckyR: Uint8Array
  state: IkeSaState = 'connecting'
  /** Where we send: moves to the peer's port 4500 once NAT-T floats (RFC 3947 §4). */
  peer: Endpoint
  local: Endpoint
  readonly createdAt: number
  keys: IkeSaKeys | undefined
  /**
   * Phase 1 CBC IV. During main mode it chains message to message; after main mode 6 it is the
   * "last phase-1 CBC output block" every phase 2 IV derives from (App. B), and never moves again.
   */
  iv: Uint8Array | undefined
  /** One IV per phase 2 / informational exchange, by message ID (App. B: each exchange chains its own). */
  readonly exchangeIvs = new Map<number, Uint8Array>()
  natT: NatTState | undefined
  /** The peer's authenticated phase 1 identity (set once HASH_I/HASH_R verified). */
  peerId: IkeIdentity | undefined
  /** Quick mode SPIs (our inbound) of the child SAs this IKE SA established, for DELETE and INITIAL-CONTACT. */
  readonly childInboundSpis = new Set<number>()

  constructor(role: IkeRole, ckyI: Uint8Array, ckyR: Uint8Array, peer: Endpoint, local: Endpoint, now: number) {
    this.role = role
    this.ckyI = ckyI
    this.ckyR = ckyR
    this.peer = peer
    this.local = local
    this.createdAt = now
  }

  get name(): string { return cookieName(this.ckyI, this.ckyR) }
  /** True when the NAT-D exchange saw a NAT on either side: ESP must be UDP-encapsulated. */
  get natDetected(): boolean { return this.natT !== undefined && (this.natT.localBehindNat || this.natT.peerBehindNat) }

  /** Ends the SA: every key and IV is zeroed (DESIGN.md §2). Idempotent. */
  destroy(): void {
    this.state = 'dead'
    const k = this.keys
    if (k) for (const b of [k.skeyid, k.d, k.a, k.e, k.encKey]) b.fill(0)
    this.keys = undefined
    this.iv?.fill(0)
    this.iv = undefined
    for (const iv of this.exchangeIvs.values()) iv.fill(0)
    this.exchangeIvs.clear()
  }
}

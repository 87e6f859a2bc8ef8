// NAT discovery for IKEv1 (RFC 3947 §3.2): which NAT-D hashes to send in main mode 3/4 (aggressive 2/3),
// and what the peer's NAT-D payloads say about a NAT on either side.
import { constantTimeEqual } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'
import type { Endpoint } from '../../lib/endpoint.js'
import { natDetectionHash } from './crypto/keys.js'
import type { IkeHash } from './crypto/algorithms.js'

/** An IPv4 or IPv6 text address as the 4 or 16 bytes NAT-D hashes. Throws DecodeError for anything else. */
export function addressBytes(address: string): Uint8Array {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address)
  if (v4) {
    const parts = v4.slice(1).map(Number)
    if (parts.some((p) => p > 255)) throw new DecodeError('address', 0, address)
    return Uint8Array.from(parts)
  }
  if (!address.includes(':')) throw new DecodeError('address', 0, address)
  const [head, tail, extra] = address.split('::')
  if (extra !== undefined) throw new DecodeError('address', 0, address)
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new DecodeError('address', 0, address)
    return parseInt(g, 16)
  }) : [])
  const h = groups(head), t = groups(tail)
  const fill = tail === undefined ? 0 : 8 - h.length - t.length
  if (fill < 0 || (tail === undefined && h.length !== 8)) throw new DecodeError('address', 0, address)
  const all = [...h, ...new Array<number>(fill).fill(0), ...t]
  const out = new Uint8Array(16)
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff })
  return out
}

/**
 * The NAT-D payload data to send, in order. RFC 3947 §3.2: the first NAT-D carries the remote end's
 * address and port (the destination of our datagram), the following ones our own local address(es).
 */
export function natDPayloads(h: IkeHash, ckyI: Uint8Array, ckyR: Uint8Array, remote: Endpoint, locals: readonly Endpoint[]): Uint8Array[] {
  const one = (e: Endpoint) => natDetectionHash(h, ckyI, ckyR, addressBytes(e.address), e.port)
  return [one(remote), ...locals.map(one)]
}

export interface NatDetection {
  /** Our address/port as the peer saw it differs from ours: a NAT in front of us (we send keepalives). */
  readonly localBehindNat: boolean
  /** None of the peer's own addresses match the packet's source: a NAT in front of the peer. */
  readonly peerBehindNat: boolean
}

/**
 * Reads the peer's NAT-D hashes (in received order) for a datagram that arrived on `local` from
 * `remote`. RFC 3947 §3.2: the first hash must equal HASH(our address and port) or we are behind a
 * NAT; if no later hash equals HASH(the packet's source) the peer is. Undefined with fewer than two
 * hashes (the peer did not follow §3.2: treat as no NAT-T rather than guess).
 */
export function detectNat(h: IkeHash, ckyI: Uint8Array, ckyR: Uint8Array, local: Endpoint, remote: Endpoint, received: readonly Uint8Array[]): NatDetection | undefined {
  if (received.length < 2) return undefined
  const mine = natDetectionHash(h, ckyI, ckyR, addressBytes(local.address), local.port)
  const theirs = natDetectionHash(h, ckyI, ckyR, addressBytes(remote.address), remote.port)
  return {
    localBehindNat: !constantTimeEqual(received[0]!, mine),
    peerBehindNat: !received.slice(1).some((d) => constantTimeEqual(d, theirs)),
  }
}

// MPPE sender (RFC 3078 §3, §7): coherency count, key changes (every packet when stateless, on the
// "flag" packet whose count ends in 0xFF when stateful) and the flushed bit after a CCP Reset-Request.
import { Rc4 } from '../../crypto/legacy/rc4.js'
import { KeyChain, type MppeDirectionKeys } from './key-chain.js'
import { COHERENCY_SPACE, MPPE_HEADER_LENGTH, MppeFlag, encodeMppeHeaderInto } from './header.js'

/**
 * Encrypts outgoing PPP datagrams. One per link direction; not shared across links.
 * Key-change points follow the Linux kernel's MPPE (ppp_mppe.c), the de-facto peer of Windows:
 * the first packet carries count 0 under the initial session key (stateful) and no flushed bit.
 */
export class MppeEncryptor {
  private readonly chain: KeyChain
  private readonly rc4: Rc4
  private readonly stateless: boolean
  private cc = COHERENCY_SPACE - 1 // the first packet gets count 0
  private flushPending = false
  private closed = false

  constructor(keys: MppeDirectionKeys) {
    this.chain = new KeyChain(keys)
    this.stateless = keys.stateless
    this.rc4 = new Rc4(this.chain.key)
  }

  /** Coherency count of the last packet sent (4095 before the first). */
  get coherencyCount(): number { return this.cc }
  /** Key changes so far (tests compare the sequence against independently derived keys). */
  get keyChanges(): number { return this.chain.changes }

  /**
   * A CCP Reset-Request arrived (RFC 3078 §8.2, stateful): the next packet changes the key and carries
   * the flushed bit. Several Requests before that packet cause one change only, because the peer cannot
   * tell how many we saw (a lost Reset-Ack makes it repeat the Request). Stateless: nothing to do.
   */
  resetRequested(): void { if (!this.stateless) this.flushPending = true }

  /**
   * Encrypts `plain` (PPP Protocol field + payload, as it would follow the PPP header) into `out`:
   * header (2 bytes) then ciphertext. `out` must hold plain.length + 2 bytes and must not overlap
   * `plain` except out.subarray(2) === plain in place. Returns out.subarray(0, plain.length + 2).
   * Throws RangeError for a short buffer or after close() (caller bugs).
   */
  encryptInto(plain: Uint8Array, out: Uint8Array): Uint8Array {
    if (this.closed) throw new RangeError('MPPE encryptor used after close')
    const total = plain.length + MPPE_HEADER_LENGTH
    if (out.length < total) throw new RangeError(`MPPE output buffer of ${out.length} bytes, need ${total}`)
    this.cc = (this.cc + 1) % COHERENCY_SPACE
    let flags: number = MppeFlag.Encrypted
    // §7.1: stateless "MUST change its key before encrypting each packet"; §7.2: stateful changes it
    // for the packet whose count's low octet is 0xFF; a Reset-Request (§8.2) forces one change too.
    if (this.stateless || (this.cc & 0xff) === 0xff || this.flushPending) {
      this.rc4.rekey(this.chain.step())
      this.flushPending = false
      flags |= MppeFlag.Flushed
    }
    encodeMppeHeaderInto(out, flags, this.cc)
    this.rc4.process(plain, out.subarray(MPPE_HEADER_LENGTH, total))
    return out.length === total ? out : out.subarray(0, total)
  }

  /** Zeroes keys and the RC4 state; further use throws. */
  close(): void { this.closed = true; this.chain.wipe(); this.rc4.wipe() }
}

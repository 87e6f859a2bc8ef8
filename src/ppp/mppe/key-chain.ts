// The MPPE session-key sequence of one direction (RFC 3078 §7, RFC 3079 §3.1–3.3): the initial
// session key from the start key, then one key change per step, 40/56-bit keys reduced each time.
import { type MppeBits, SessionKeyChanger, initialSessionKey, mppeKeyLength } from '../../auth/mppe-keys.js'

/** What CCP agreed for the link (both directions use the same, RFC 3078 §2). */
export interface MppeParams {
  readonly bits: MppeBits
  /** H bit: change the key before every packet (RFC 3078 §7.1) instead of every 256 (§7.2). */
  readonly stateless: boolean
}

/** A direction's key material: the start key (GetAsymmetricStartKey) plus the agreed parameters. */
export interface MppeDirectionKeys extends MppeParams {
  /** 8 bytes (40/56-bit) or 16 bytes (128-bit). Copied; the caller may wipe its own copy. */
  readonly startKey: Uint8Array
}

/**
 * Holds the start key and the current session key; `step()` performs one RFC 3078 §7.3 key change
 * in place (no allocation: stateless MPPE steps once per packet). `wipe()` zeroes both (teardown).
 * Throws RangeError when the start key length does not fit `bits`.
 */
export class KeyChain {
  readonly bits: MppeBits
  private readonly changer: SessionKeyChanger
  private readonly current: Uint8Array
  private readonly saved: Uint8Array
  /** Key changes performed since the initial session key. */
  changes = 0
  private savedChanges = -1

  constructor(keys: MppeDirectionKeys) {
    const len = mppeKeyLength(keys.bits)
    if (keys.startKey.length !== len) throw new RangeError(`MPPE ${keys.bits}-bit start key must be ${len} bytes, got ${keys.startKey.length}`)
    this.bits = keys.bits
    this.changer = new SessionKeyChanger(keys.startKey, keys.bits)
    this.current = initialSessionKey(keys.startKey, keys.bits)
    this.saved = new Uint8Array(len)
  }

  /** The session key now in use: one buffer for the chain's life, rewritten by step() and rollback(). */
  get key(): Uint8Array { return this.current }

  /** One key change: current = RC4(Interim, Interim), Interim = GetNewKeyFromSHA(start, current). Returns `key`. */
  step(): Uint8Array {
    this.changer.next(this.current, this.current)
    this.changes++
    return this.current
  }

  /** Remembers the current key so that tentative key changes can be undone (see rollback). */
  mark(): void {
    this.saved.set(this.current)
    this.savedChanges = this.changes
  }

  /** Returns to the key saved by mark(): a packet that fails to decrypt must not move us (forgery). */
  rollback(): void {
    if (this.savedChanges < 0) return
    this.current.set(this.saved)
    this.changes = this.savedChanges
  }

  wipe(): void { this.changer.wipe(); this.current.fill(0); this.saved.fill(0) }
}

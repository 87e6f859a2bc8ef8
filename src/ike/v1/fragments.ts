// IKEv1 fragmentation as Cisco and Microsoft implement it (no RFC; payload layout in payloads.ts): split a
// whole datagram into type-132 messages and reassemble them, with bounds on count and bytes.
import { PayloadType, HeaderFlag } from './constants.js'
import { encodeMessage } from './message/message.js'
import type { HeaderFields } from './message/message.js'
import { FRAGMENT_LAST } from './message/payloads.js'

/** libreswan refuses fragment numbers above 16; so do we. */
export const MAX_FRAGMENTS = 16
export const MAX_REASSEMBLED_BYTES = 65535

/**
 * Splits `datagram` (a complete, usually encrypted, ISAKMP message) into fragment messages whose
 * fragment data is at most `maxData` bytes. Each carries `header` with the E flag cleared (the
 * fragment payload itself is not encrypted; its data is the already-encrypted original) and a single
 * type-132 payload; numbers count from 1 and the last one has LAST_FRAGMENT. Throws RangeError when
 * more than 16 fragments would be needed (a configuration bug: maxData too small).
 */
export function splitIntoFragments(datagram: Uint8Array, header: HeaderFields, fragmentId: number, maxData: number): Uint8Array[] {
  const count = Math.max(1, Math.ceil(datagram.length / maxData))
  if (count > MAX_FRAGMENTS) throw new RangeError(`${count} fragments needed, at most ${MAX_FRAGMENTS}`)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const data = datagram.subarray(i * maxData, Math.min(datagram.length, (i + 1) * maxData))
    out.push(encodeMessage({ ...header, flags: header.flags & ~HeaderFlag.Encryption }, [
      { payload: 'fragment', fragmentId, number: i + 1, flags: i === count - 1 ? FRAGMENT_LAST : 0, data },
    ]))
  }
  return out
}

export type FragmentResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'complete'; readonly datagram: Uint8Array }
  | { readonly status: 'dropped'; readonly reason: 'number' | 'too-large' | 'duplicate' | 'after-last' }

/**
 * Collects the fragments of one message per ISAKMP SA (the task manager keeps one per SA). A new
 * fragment ID discards an unfinished older one (the peer gave up on it, as strongSwan also assumes).
 * Completion returns the concatenated original datagram, to be decoded like any received datagram.
 */
export class FragmentReassembler {
  private id: number | undefined
  private readonly parts = new Map<number, Uint8Array>()
  private last: number | undefined
  private bytes = 0

  add(fragment: { readonly fragmentId: number; readonly number: number; readonly flags: number; readonly data: Uint8Array }): FragmentResult {
    if (fragment.number < 1 || fragment.number > MAX_FRAGMENTS) return { status: 'dropped', reason: 'number' }
    if (fragment.fragmentId !== this.id) this.reset(fragment.fragmentId)
    if (this.parts.has(fragment.number)) return { status: 'dropped', reason: 'duplicate' }
    if (this.last !== undefined && fragment.number > this.last) return { status: 'dropped', reason: 'after-last' }
    if (this.bytes + fragment.data.length > MAX_REASSEMBLED_BYTES) { this.reset(undefined); return { status: 'dropped', reason: 'too-large' } }
    if (fragment.flags & FRAGMENT_LAST) {
      for (const n of this.parts.keys()) if (n > fragment.number) return { status: 'dropped', reason: 'after-last' }
      this.last = fragment.number
    }
    this.parts.set(fragment.number, new Uint8Array(fragment.data))
    this.bytes += fragment.data.length
    if (this.last === undefined || this.parts.size !== this.last) return { status: 'incomplete' }
    const datagram = new Uint8Array(this.bytes)
    let o = 0
    for (let n = 1; n <= this.last; n++) { const p = this.parts.get(n)!; datagram.set(p, o); o += p.length }
    this.reset(undefined)
    return { status: 'complete', datagram }
  }

  /** Bytes of fragment data held for the unfinished message (0 when none). */
  get heldBytes(): number { return this.bytes }

  private reset(id: number | undefined): void {
    this.id = id
    this.parts.clear()
    this.last = undefined
    this.bytes = 0
  }
}

/** The Next Payload value that marks a fragment message (for demultiplexing before decryption). */
export const FRAGMENT_PAYLOAD = PayloadType.IkeFragment

// Demultiplexer of enhanced GRE (RFC 2637 §4.1): one raw protocol-47 socket carries every call of
// every peer; the (peer address, Call ID) pair names the call. Sans-IO.
import { Counters } from '../../lib/counters.js'
import { DecodeError } from '../../lib/errors.js'
import type { Millis } from '../../lib/time.js'
import { decodeGre } from './packet.js'
import type { GreCall } from './call.js'

function key(peer: string, callId: number): string { return `${peer}#${callId}` }

/**
 * Routes GRE packets to GreCalls. Call IDs are only unique per peer (each PPTP control connection
 * allocates its own), so the key is the peer's address plus the Call ID the peer put in the packet
 * (our local Call ID). A packet that decodes badly or names no registered call is counted
 * ('drop:malformed:<field>', 'drop:unknown-call') and touches no call's state.
 */
export class GreDemux {
  private readonly calls = new Map<string, GreCall>()
  private readonly stats = new Counters()

  /** Registers `call` for packets from `peer` (dotted IPv4). Throws RangeError if the pair is taken (our bug). */
  add(peer: string, call: GreCall): void {
    const k = key(peer, call.localCallId)
    if (this.calls.has(k)) throw new RangeError(`GRE call ${call.localCallId} from ${peer} is already registered`)
    this.calls.set(k, call)
  }

  /** Unregisters; returns whether it was registered. Does not close the call. */
  remove(peer: string, localCallId: number): boolean { return this.calls.delete(key(peer, localCallId)) }

  get(peer: string, localCallId: number): GreCall | undefined { return this.calls.get(key(peer, localCallId)) }

  get size(): number { return this.calls.size }

  /**
   * Hands one packet (bytes after the IPv4 header) from `peer` to its call and returns that call
   * (the driver then drains its pollFrame/pollTransmit), or undefined when it was dropped. Never throws on peer input.
   */
  handlePacket(now: Millis, peer: string, packet: Uint8Array): GreCall | undefined {
    let p
    try {
      p = decodeGre(packet)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.stats.inc(`drop:malformed:${e.field}`)
      return undefined
    }
    const call = this.calls.get(key(peer, p.callId))
    if (!call) { this.stats.inc('drop:unknown-call'); return undefined }
    this.stats.inc('rx:packets')
    call.handleGre(now, p)
    return call
  }

  /** Every registered call (for the driver's timer: the earliest nextTimeout). */
  all(): IterableIterator<GreCall> { return this.calls.values() }

  counters(): Record<string, number> { return this.stats.snapshot() }
}

// Stream framer for SSTP over the decrypted TLS byte stream: [MS-SSTP] §2.2.1 (Length counts the whole packet)
// and §3.1.5.1 (a stream that cannot be delineated is aborted without a message). Chunks of any size in, whole packets out.
import { DecodeError } from '../lib/errors.js'
import { SSTP_HEADER_LENGTH, SSTP_MAX_PACKET_LENGTH, decodePacketHeader } from './packet.js'

/** Receives each whole packet (header included): a view valid until the next push() — copy to keep it longer. */
export type PacketSink = (packet: Uint8Array, control: boolean) => void

/**
 * Splits a byte stream into SSTP packets. Whole packets inside a chunk are passed on as views of the chunk (no copy);
 * only a packet split across chunks is gathered, in a fixed 4095-byte buffer — the framer never holds more than one
 * partial packet, and never more than two fixed buffers. A bad version or a Length below 4 is fatal: the framer remembers the error and refuses all later
 * input, because nothing after it can be delineated.
 */
export class SstpFramer {
  // Two gather buffers, used in turn: a packet completed in one stays intact (its view is handed on, and e.g. PPP's
  // 'ip' event may still point into it) while the tail of the same chunk is kept in the other. Only one partial
  // packet is ever held.
  private readonly bufs = [new Uint8Array(SSTP_MAX_PACKET_LENGTH), new Uint8Array(SSTP_MAX_PACKET_LENGTH)] as const
  private cur = 0
  private buf: Uint8Array = this.bufs[0]
  private have = 0
  private need = 0 // whole length of the packet being gathered, 0 while its header is incomplete
  private failed: string | undefined

  /** The fatal error reason, once one happened ('bad-version' or 'length-too-short'). */
  get error(): string | undefined { return this.failed }
  /** Bytes of an incomplete packet held. */
  get buffered(): number { return this.have }

  /**
   * Feeds a chunk; calls `sink` for each completed packet in order. Returns undefined, or the fatal error reason
   * (then no further packets are delivered, now or later). Never throws for any input; an exception from `sink`
   * propagates (the sink is ours).
   */
  push(chunk: Uint8Array, sink: PacketSink): string | undefined {
    if (this.failed) return this.failed
    let off = 0
    if (this.have > 0) {
      // Finish the gathered packet first.
      if (this.need === 0) {
        const take = Math.min(SSTP_HEADER_LENGTH - this.have, chunk.length)
        this.buf.set(chunk.subarray(0, take), this.have)
        this.have += take
        off = take
        if (this.have < SSTP_HEADER_LENGTH) return undefined
        const err = this.header(this.buf, 0)
        if (err) return err
      }
      const take = Math.min(this.need - this.have, chunk.length - off)
      this.buf.set(chunk.subarray(off, off + take), this.have)
      this.have += take
      off += take
      if (this.have < this.need) return undefined
      const len = this.need
      this.have = 0
      this.need = 0
      sink(this.buf.subarray(0, len), (this.buf[1]! & 1) === 1)
    }
    while (off < chunk.length) {
      const left = chunk.length - off
      if (left >= SSTP_HEADER_LENGTH) {
        const err = this.header(chunk, off)
        if (err) return err
        if (left >= this.need) {
          const len = this.need
          this.need = 0
          sink(chunk.subarray(off, off + len), (chunk[off + 1]! & 1) === 1)
          off += len
          continue
        }
      }
      // Keep the tail (less than one packet) for the next chunk, in the buffer not just delivered from.
      this.cur ^= 1
      this.buf = this.cur === 0 ? this.bufs[0] : this.bufs[1]
      this.buf.set(chunk.subarray(off), 0)
      this.have = left
      return undefined
    }
    return undefined
  }

  private header(buf: Uint8Array, off: number): string | undefined {
    try {
      this.need = decodePacketHeader(buf, off).length
      return undefined
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.failed = e.field === 'sstp.version' ? 'bad-version' : 'length-too-short'
      this.have = 0
      this.need = 0
      return this.failed
    }
  }
}

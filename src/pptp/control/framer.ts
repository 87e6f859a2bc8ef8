// Stream framer for the PPTP control connection over TCP (RFC 2637 §1.4: Length is the whole message, header
// included). Chunks of any size in, whole messages out; the header is checked as soon as it is complete, so a
// declared Length that no control message has is refused before any of its body is buffered.
import { DecodeError } from '../../lib/errors.js'
import { PPTP_HEADER_LENGTH } from './constants.js'
import { PPTP_MAX_MESSAGE_LENGTH, decodeHeader } from './messages.js'

/** Receives each whole message: a view valid only during the call (copy to keep it). */
export type MessageSink = (message: Uint8Array) => void

/**
 * Splits the TCP byte stream into control messages. Holds at most one partial message in a fixed buffer of
 * PPTP_MAX_MESSAGE_LENGTH octets. A bad header (PPTP Message Type, Magic Cookie, unknown type, Length not that of the
 * type) is fatal: the framer remembers it and refuses all later input, because nothing after it can be delineated.
 */
export class PptpFramer {
  private readonly buf = new Uint8Array(PPTP_MAX_MESSAGE_LENGTH)
  private have = 0
  private need = 0 // whole length of the message being gathered, 0 while its header is incomplete
  private failed: DecodeError | undefined

  /** The fatal header error, once one happened. */
  get error(): DecodeError | undefined { return this.failed }
  get buffered(): number { return this.have }

  /** Feeds a chunk; calls `sink` per message. Returns the fatal DecodeError if the stream is (or already was) lost. */
  push(chunk: Uint8Array, sink: MessageSink): DecodeError | undefined {
    if (this.failed) return this.failed
    let off = 0
    while (off < chunk.length) {
      if (this.have === 0) {
        // Fast path: whole messages inside the chunk are handed on as views.
        const left = chunk.length - off
        if (left >= PPTP_HEADER_LENGTH) {
          const err = this.header(chunk, off)
          if (err) return err
          if (left >= this.need) { const n = this.need; this.need = 0; sink(chunk.subarray(off, off + n)); off += n; continue }
        }
      }
      if (this.need === 0) {
        const take = Math.min(PPTP_HEADER_LENGTH - this.have, chunk.length - off)
        this.buf.set(chunk.subarray(off, off + take), this.have)
        this.have += take
        off += take
        if (this.have < PPTP_HEADER_LENGTH) return undefined
        const err = this.header(this.buf, 0)
        if (err) return err
      }
      const take = Math.min(this.need - this.have, chunk.length - off)
      this.buf.set(chunk.subarray(off, off + take), this.have)
      this.have += take
      off += take
      if (this.have < this.need) return undefined
      const n = this.need
      this.have = 0
      this.need = 0
      sink(this.buf.subarray(0, n))
    }
    return undefined
  }

  private header(buf: Uint8Array, off: number): DecodeError | undefined {
    try {
      const { length } = decodeHeader(buf, off)
      this.need = length
      return undefined
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.failed = e
      this.have = 0
      this.need = 0
      return e
    }
  }
}

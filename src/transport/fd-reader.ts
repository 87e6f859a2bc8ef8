// The lifecycle of one native batched reader thread on an fd (TUN device, raw IP socket): start on
// first use, error delivery (the thread has exited), unref, stop. Shared by tun.ts and raw-ip.ts.
import type { NativeAddon, ReaderHandle } from '../native/index.js'
import type { VpnError } from '../lib/errors.js'
import type { Counters } from '../lib/counters.js'

export class FdReader {
  private reader: ReaderHandle | undefined
  private errorCb: ((err: VpnError) => void) | undefined
  private unrefed = false
  private readonly native: NativeAddon
  private readonly maxBatch: number
  private readonly counters: Counters
  /** Wraps a read error with the caller's context (ERR_TUN_READ, ERR_RAW_READ). */
  private readonly wrapError: (err: Error) => VpnError

  constructor(native: NativeAddon, maxBatch: number, counters: Counters, wrapError: (err: Error) => VpnError) {
    this.native = native
    this.maxBatch = maxBatch
    this.counters = counters
    this.wrapError = wrapError
  }

  /** Starts the thread unless it runs; each batch (counted 'rx-batches', 'rx-packets') goes to `onBatch`. */
  start(fd: number, onBatch: (data: ArrayBuffer, lengths: Uint32Array) => void): void {
    if (this.reader) return
    this.reader = this.native.startReader(fd, (err, data, lengths) => {
      if (err) {
        // The thread has exited; join it and release its handle.
        this.stop()
        const wrapped = this.wrapError(err)
        if (this.errorCb) this.errorCb(wrapped)
        else throw wrapped
        return
      }
      if (!data || !lengths) return
      this.counters.inc('rx-batches')
      this.counters.inc('rx-packets', lengths.length)
      onBatch(data, lengths)
    }, { maxBatch: this.maxBatch })
    if (this.unrefed) this.native.refReader(this.reader, false)
  }

  /** Read errors (the reader has stopped) go here; without a handler they are thrown as uncaught. */
  onError(cb: (err: VpnError) => void): void { this.errorCb = cb }

  /** Lets the process exit while the reader still runs (like socket.unref()). */
  unref(): void {
    this.unrefed = true
    if (this.reader) this.native.refReader(this.reader, false)
  }

  /** Stops the thread (joins it). Idempotent. */
  stop(): void {
    if (this.reader) { this.native.stopReader(this.reader); this.reader = undefined }
  }
}

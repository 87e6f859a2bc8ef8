// Raw IPv4 socket adapter (raw(7)) for IP protocols Node cannot reach: GRE 47 (PPTP, RFC 2637 §4)
// now, ESP 50 later. Batched reads through the native reader; strips the IPv4 header (RFC 791 §3.1)
// and keeps the source address. Holds no protocol decision; wraps system errors with context.
import { loadNative, splitBatch } from '../native/index.js'
import type { NativeAddon, NativeSysError } from '../native/index.js'
import { FdReader } from './fd-reader.js'
import { VpnError } from '../lib/errors.js'
import { Counters } from '../lib/counters.js'

export interface RawIpOpenOptions {
  /** IP protocol number, 1..254 (47 GRE, 50 ESP). */
  readonly protocol: number
  /** Local IPv4 address to bind: only packets to it are received, and it is the source of what we send. */
  readonly bindAddress?: string
  /** Packets per delivered batch at most (default 256). */
  readonly maxBatch?: number
  /** Socket receive buffer (default: the kernel's); bursts beyond it are dropped by the kernel. */
  readonly recvBufferBytes?: number
}

/** One received datagram: the sender's IPv4 address and the bytes after the IPv4 header (a view). */
export interface RawIpPacket { readonly from: string; readonly payload: Uint8Array }
export type RawIpPacketsCallback = (batch: RawIpPacket[]) => void
export type RawIpErrorCallback = (err: VpnError) => void

function sysDetail(e: unknown): string {
  const s = e as Partial<NativeSysError>
  return s && typeof s === 'object' && s.code ? `${s.syscall ?? 'syscall'} failed: ${s.code}` : String(e)
}

/**
 * Strips the IPv4 header of a datagram read from a raw socket. Returns undefined for anything that
 * is not a whole IPv4 packet of `protocol` (counted by the caller). The kernel reassembles fragments
 * before raw delivery, so a packet here is complete; the payload is trimmed to the Total Length.
 */
export function stripIpv4(p: Uint8Array, protocol: number): RawIpPacket | undefined {
  if (p.length < 20 || p[0]! >> 4 !== 4) return undefined
  const ihl = (p[0]! & 0x0f) * 4
  const total = (p[2]! << 8) | p[3]!
  if (ihl < 20 || total < ihl || total > p.length || p[9] !== protocol) return undefined
  return { from: `${p[12]}.${p[13]}.${p[14]}.${p[15]}`, payload: p.subarray(ihl, total) }
}

/**
 * One raw IPv4 socket. Counters: 'rx-batches', 'rx-packets', 'rx-drop:not-ipv4' (a datagram whose
 * header does not parse or names another protocol), 'tx-packets', 'tx-dropped' (socket buffer full).
 */
export class RawIpSocket {
  readonly protocol: number
  readonly bindAddress: string | undefined
  readonly counters = new Counters()
  private fd: number
  private readonly native: NativeAddon
  private readonly reader: FdReader
  private packetsCb: RawIpPacketsCallback | undefined

  private constructor(native: NativeAddon, fd: number, opts: RawIpOpenOptions) {
    this.native = native
    this.fd = fd
    this.protocol = opts.protocol
    this.bindAddress = opts.bindAddress
    this.reader = new FdReader(native, opts.maxBatch ?? 256, this.counters, (err) => new VpnError('ERR_RAW_READ', `reading raw IP socket (protocol ${this.protocol}${this.bindAddress ? ` on ${this.bindAddress}` : ''}): ${err.message}`, { cause: err }))
  }

  /** Opens the socket. Throws VpnError ERR_RAW_OPEN naming the syscall, the address and the fix. */
  static open(opts: RawIpOpenOptions): RawIpSocket {
    const native = loadNative()
    if (!Number.isInteger(opts.protocol) || opts.protocol < 1 || opts.protocol > 254) throw new VpnError('ERR_RAW_OPEN', `invalid IP protocol ${opts.protocol}: 1..254`)
    let fd: number
    try {
      fd = native.openRaw(opts.protocol, opts.bindAddress, opts.recvBufferBytes)
    } catch (e) {
      const code = (e as Partial<NativeSysError>).code
      const fix = code === 'EPERM' || code === 'EACCES' ? '; run as root or grant CAP_NET_RAW'
        : code === 'EADDRNOTAVAIL' ? `; ${opts.bindAddress} is not an address of this host` : ''
      throw new VpnError('ERR_RAW_OPEN', `cannot open raw IP socket for protocol ${opts.protocol}${opts.bindAddress ? ` on ${opts.bindAddress}` : ''}: ${(e as Error).message}${fix}`, { cause: e })
    }
    return new RawIpSocket(native, fd, opts)
  }

  get isOpen(): boolean { return this.fd >= 0 }

  /**
   * Sends `payload` (e.g. a GRE packet) to `dest`; the kernel writes the IPv4 header. A full socket
   * buffer drops it (counted 'tx-dropped': IP is lossy, the data plane must not block). Throws
   * VpnError ERR_RAW_SEND with the syscall and destination on other errors (e.g. ENETUNREACH).
   */
  send(dest: string, payload: Uint8Array): void {
    if (this.fd < 0) throw new VpnError('ERR_RAW_CLOSED', `raw IP socket (protocol ${this.protocol}) is closed`)
    let ok: boolean
    try {
      ok = this.native.rawSend(this.fd, dest, payload)
    } catch (e) {
      throw new VpnError('ERR_RAW_SEND', `send ${payload.length} bytes of IP protocol ${this.protocol} to ${dest}: ${sysDetail(e)} (${(e as Error).message})`, { cause: e })
    }
    this.counters.inc(ok ? 'tx-packets' : 'tx-dropped')
  }

  /** Sends a batch in one native call (sendmmsg); packets beyond a full socket buffer are counted dropped. */
  sendMany(items: readonly { readonly dest: string; readonly payload: Uint8Array }[]): void {
    if (this.fd < 0) throw new VpnError('ERR_RAW_CLOSED', `raw IP socket (protocol ${this.protocol}) is closed`)
    if (items.length === 0) return
    let n: number
    try {
      n = this.native.rawSendMany(this.fd, items.map((i) => i.dest), items.map((i) => i.payload))
    } catch (e) {
      throw new VpnError('ERR_RAW_SEND', `send batch of IP protocol ${this.protocol}: ${sysDetail(e)} (${(e as Error).message})`, { cause: e })
    }
    this.counters.inc('tx-packets', n)
    if (n < items.length) this.counters.inc('tx-dropped', items.length - n)
  }

  /**
   * Delivers received datagrams in batches, IPv4 header stripped, source kept (payloads are views
   * into one buffer per batch). Starts the reader thread on the first call; a later call replaces
   * the callback. An exception thrown by `cb` propagates as uncaught (our bug, not the peer's).
   */
  onPackets(cb: RawIpPacketsCallback): void {
    if (this.fd < 0) throw new VpnError('ERR_RAW_CLOSED', `raw IP socket (protocol ${this.protocol}) is closed`)
    this.packetsCb = cb
    this.reader.start(this.fd, (data, lengths) => {
      const batch: RawIpPacket[] = []
      for (const p of splitBatch(data, lengths)) {
        const r = stripIpv4(p, this.protocol)
        if (r) batch.push(r)
        else this.counters.inc('rx-drop:not-ipv4')
      }
      if (batch.length > 0) this.packetsCb?.(batch)
    })
  }

  /** Read errors (the reader has stopped) go here; without a handler they are thrown as uncaught. */
  onError(cb: RawIpErrorCallback): void { this.reader.onError(cb) }

  /** Lets the process exit while the reader still runs (like socket.unref()). */
  unref(): void { this.reader.unref() }

  /** Stops the reader (joins its thread) and closes the socket. Idempotent. */
  close(): void {
    if (this.fd < 0) return
    this.reader.stop()
    const fd = this.fd
    this.fd = -1
    this.packetsCb = undefined
    try {
      this.native.close(fd)
    } catch (e) {
      throw new VpnError('ERR_RAW_CLOSE', `close raw IP socket (protocol ${this.protocol}): ${sysDetail(e)}`, { cause: e })
    }
  }
}

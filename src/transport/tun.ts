// TUN adapter: a Linux TUN device (IFF_TUN | IFF_NO_PI) through the gatehouse native addon, with
// batched reads. Holds no protocol decision; wraps system errors with context (DESIGN.md §2).
import { loadNative, splitBatch } from '../native/index.js'
import type { NativeAddon, NativeSysError } from '../native/index.js'
import { FdReader } from './fd-reader.js'
import { VpnError } from '../lib/errors.js'
import { Counters } from '../lib/counters.js'

export interface TunOpenOptions {
  /** Interface name (at most 15 bytes); the kernel picks tunN when absent. */
  readonly name?: string
  /** Packets per delivered batch at most (default 256). */
  readonly maxBatch?: number
}

export type TunPacketsCallback = (packets: Uint8Array[]) => void
export type TunErrorCallback = (err: VpnError) => void

function sysDetail(e: unknown): string {
  const s = e as Partial<NativeSysError>
  return s && typeof s === 'object' && s.code ? `${s.syscall ?? 'syscall'} failed: ${s.code}` : String(e)
}

/** One open TUN device. Counters: 'write-dropped' (kernel queue full), 'rx-batches', 'rx-packets'. */
export class TunDevice {
  readonly name: string
  readonly counters = new Counters()
  private fd: number
  private readonly native: NativeAddon
  private readonly reader: FdReader
  private packetsCb: TunPacketsCallback | undefined

  private constructor(native: NativeAddon, fd: number, name: string, maxBatch: number) {
    this.native = native
    this.fd = fd
    this.name = name
    this.reader = new FdReader(native, maxBatch, this.counters, (err) => new VpnError('ERR_TUN_READ', `reading TUN ${this.name}: ${err.message}`, { cause: err }))
  }

  /**
   * Creates (or attaches to) a TUN interface. The interface starts down and unaddressed: configure
   * it with transport/netcfg.ts. Throws VpnError ERR_TUN_OPEN naming /dev/net/tun and the fix.
   */
  static open(opts: TunOpenOptions = {}): TunDevice {
    const native = loadNative()
    // Linux dev_valid_name(): 1..15 bytes, not '.' or '..', no '/', ':' or whitespace.
    if (opts.name !== undefined && (Buffer.byteLength(opts.name) > 15 || opts.name === '' || opts.name === '.' || opts.name === '..' || /[/:\s]/.test(opts.name))) {
      throw new VpnError('ERR_TUN_OPEN', `invalid TUN name ${JSON.stringify(opts.name)}: 1 to 15 bytes without '/', ':' or spaces`)
    }
    let r: { fd: number; name: string }
    try {
      r = native.openTun(opts.name)
    } catch (e) {
      const code = (e as Partial<NativeSysError>).code
      const fix = code === 'EPERM' || code === 'EACCES'
        ? 'run as root or grant CAP_NET_ADMIN'
        : code === 'ENOENT' || code === 'ENODEV'
          ? 'load the tun module (modprobe tun) or create /dev/net/tun; run as root or grant CAP_NET_ADMIN'
          : code === 'EBUSY' ? `interface ${opts.name ?? ''} is already attached by another process` : 'run as root or grant CAP_NET_ADMIN'
      throw new VpnError('ERR_TUN_OPEN', `cannot open TUN${opts.name ? ` ${opts.name}` : ''} via /dev/net/tun: ${(e as Error).message}; ${fix}`, { cause: e })
    }
    return new TunDevice(native, r.fd, r.name, opts.maxBatch ?? 256)
  }

  /** True until close(). */
  get isOpen(): boolean { return this.fd >= 0 }

  /**
   * Writes one IP packet to the kernel. A full kernel queue drops it (counted 'write-dropped'):
   * IP is lossy and the data plane must not block. Throws VpnError ERR_TUN_WRITE on other errors
   * (e.g. EINVAL for a non-IP packet, EIO when the interface is gone).
   */
  write(packet: Uint8Array): void {
    if (this.fd < 0) throw new VpnError('ERR_TUN_CLOSED', `TUN ${this.name} is closed`)
    let ok: boolean
    try {
      ok = this.native.write(this.fd, packet)
    } catch (e) {
      throw new VpnError('ERR_TUN_WRITE', `write to TUN ${this.name} (${packet.length} bytes): ${sysDetail(e)}`, { cause: e })
    }
    if (!ok) this.counters.inc('write-dropped')
  }

  /** Writes a batch in one native call; packets beyond a full kernel queue are counted dropped. */
  writeMany(packets: readonly Uint8Array[]): void {
    if (this.fd < 0) throw new VpnError('ERR_TUN_CLOSED', `TUN ${this.name} is closed`)
    if (packets.length === 0) return
    let n: number
    try {
      n = this.native.writeMany(this.fd, packets)
    } catch (e) {
      throw new VpnError('ERR_TUN_WRITE', `write to TUN ${this.name}: ${sysDetail(e)}`, { cause: e })
    }
    if (n < packets.length) this.counters.inc('write-dropped', packets.length - n)
  }

  /**
   * Delivers received packets in batches (views into one buffer per batch; copy what you keep past
   * the next turn only if you mutate it). Starts the reader thread on first call; a second call
   * replaces the callback. An exception thrown by `cb` propagates as uncaught (our bug, not the peer's).
   */
  onPackets(cb: TunPacketsCallback): void {
    if (this.fd < 0) throw new VpnError('ERR_TUN_CLOSED', `TUN ${this.name} is closed`)
    this.packetsCb = cb
    this.reader.start(this.fd, (data, lengths) => this.packetsCb?.(splitBatch(data, lengths)))
  }

  /** Read errors (the reader has stopped) go here; without a handler they are thrown as uncaught. */
  onError(cb: TunErrorCallback): void { this.reader.onError(cb) }

  /** Lets the process exit while the reader still runs (like socket.unref()). */
  unref(): void { this.reader.unref() }

  /** Stops the reader (joins its thread) and closes the fd; the kernel then removes the interface. Idempotent. */
  close(): void {
    if (this.fd < 0) return
    this.reader.stop()
    const fd = this.fd
    this.fd = -1
    this.packetsCb = undefined
    try {
      this.native.close(fd)
    } catch (e) {
      throw new VpnError('ERR_TUN_CLOSE', `close TUN ${this.name}: ${sysDetail(e)}`, { cause: e })
    }
  }
}

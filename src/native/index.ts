// Loader and types for the gatehouse N-API addon (build/Release/gatehouse_native.node, built by
// binding.gyp at install): TUN attach/write, the batching reader, raw IPv4 sockets. Linux only.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { VpnError } from '../lib/errors.js'

/** A system error from the addon, shaped like Node's own: code 'EACCES', errno 13, syscall 'open'. */
export interface NativeSysError extends Error {
  readonly code: string
  readonly errno: number
  readonly syscall: string
  /** writeMany only: packets written before the error. */
  readonly written?: number
}

/** Opaque handle of a running reader thread. */
export type ReaderHandle = { readonly __brand: 'ReaderHandle' }

/**
 * Called on the JS thread once per batch: `data` holds `lengths.length` packets back to back
 * (zero-copy; the views stay valid as long as they are referenced). Called once with `err` when the
 * fd fails (the thread has then exited; call stopReader to join it). A running reader holds its own
 * handle: it runs until stopReader, even if the handle is dropped.
 */
export type ReaderCallback = (err: NativeSysError | undefined, data?: ArrayBuffer, lengths?: Uint32Array) => void

export interface ReaderOptions {
  /** Packets per batch at most (1..4096, default 256). */
  readonly maxBatch?: number
  /** Largest packet read (576..65535, default 65535); bigger packets are truncated by the kernel. */
  readonly maxPacket?: number
}

export interface NativeAddon {
  readonly abiVersion: number
  /** open("/dev/net/tun") + TUNSETIFF(IFF_TUN|IFF_NO_PI); O_CLOEXEC, O_NONBLOCK unless `blocking`. */
  openTun(name?: string, blocking?: boolean): { fd: number; name: string }
  /** One packet; true written, false dropped (EAGAIN/ENOBUFS); throws NativeSysError otherwise. */
  write(fd: number, packet: Uint8Array): boolean
  /** Packets in order until the first EAGAIN/ENOBUFS; returns how many were written. */
  writeMany(fd: number, packets: readonly Uint8Array[]): number
  close(fd: number): void
  startReader(fd: number, cb: ReaderCallback, opts?: ReaderOptions): ReaderHandle
  /** Wakes and joins the thread; no callback runs after it returns. Idempotent. */
  stopReader(handle: ReaderHandle): void
  /** Whether a running reader keeps the event loop alive (it does by default). */
  refReader(handle: ReaderHandle, ref: boolean): void
  /** What the reader thread did so far (monitoring): poll wake-ups, packets, batches, queue-full waits. */
  readerStats(handle: ReaderHandle): ReaderStats
  /**
   * socket(AF_INET, SOCK_RAW, protocol) (1..254), non-blocking and close-on-exec, optionally bound to
   * a local IPv4 address and with a receive buffer of `recvBufferBytes`. Read it with startReader:
   * each packet arrives WITH its IPv4 header. Needs CAP_NET_RAW. Close with close(fd).
   */
  openRaw(protocol: number, bindAddress?: string, recvBufferBytes?: number): number
  /** sendto(dest): the kernel adds the IPv4 header. true sent, false dropped (EAGAIN/ENOBUFS); throws NativeSysError otherwise. */
  rawSend(fd: number, dest: string, payload: Uint8Array): boolean
  /** sendmmsg of dests[i] <- payloads[i]; returns how many were sent before the first EAGAIN/ENOBUFS. */
  rawSendMany(fd: number, dests: readonly string[], payloads: readonly Uint8Array[]): number
}

export interface ReaderStats { readonly wakeups: number; readonly packets: number; readonly batches: number; readonly queueFull: number }

const ADDON = 'build/Release/gatehouse_native.node'
let cached: NativeAddon | undefined

/** The project root: the nearest ancestor of this file holding binding.gyp (src/ or dist/src/). */
function projectRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir
    dir = dirname(dir)
  }
  return undefined
}

/** Loads the addon once. Throws VpnError ERR_NATIVE_MISSING naming the fix when it is not built. */
export function loadNative(): NativeAddon {
  if (cached) return cached
  if (process.platform !== 'linux') throw new VpnError('ERR_NATIVE_UNSUPPORTED', `the gatehouse native addon supports Linux only (platform ${process.platform})`)
  const root = projectRoot()
  const path = root ? join(root, ADDON) : undefined
  if (!path || !existsSync(path)) {
    throw new VpnError('ERR_NATIVE_MISSING', `native addon ${ADDON} not found; build it with "npm run install" (node-gyp rebuild; needs g++, make, python3)`)
  }
  const require = createRequire(import.meta.url)
  try {
    cached = require(path) as NativeAddon
  } catch (e) {
    throw new VpnError('ERR_NATIVE_LOAD', `cannot load ${path}: ${(e as Error).message}; rebuild it with "npm run install"`, { cause: e })
  }
  return cached
}

/** Splits a reader batch into per-packet views (no copy). */
export function splitBatch(data: ArrayBuffer, lengths: Uint32Array): Uint8Array[] {
  const out = new Array<Uint8Array>(lengths.length)
  let off = 0
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i]!
    out[i] = new Uint8Array(data, off, n)
    off += n
  }
  return out
}

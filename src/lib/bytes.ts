// Bounds-checked big-endian readers and writers over Uint8Array, plus small byte helpers.
// Every codec in Gatehouse reads peer bytes through ByteReader so a short packet is a DecodeError,
// never an out-of-range read (DESIGN.md §3).
import { DecodeError } from './errors.js'

/** Reads big-endian fields from `buf`; every read past the end throws DecodeError(field, offset). */
export class ByteReader {
  readonly buf: Uint8Array
  offset: number
  readonly end: number
  constructor(buf: Uint8Array, offset = 0, end = buf.length) {
    this.buf = buf
    this.offset = offset
    this.end = end
  }
  get remaining(): number { return this.end - this.offset }
  private need(n: number, field: string): void {
    if (!Number.isInteger(n) || n < 0 || this.offset + n > this.end) throw new DecodeError(field, this.offset, `need ${n} bytes, have ${this.end - this.offset}`)
  }
  u8(field = 'u8'): number { this.need(1, field); return this.buf[this.offset++]! }
  u16(field = 'u16'): number {
    this.need(2, field)
    const v = (this.buf[this.offset]! << 8) | this.buf[this.offset + 1]!
    this.offset += 2
    return v
  }
  u24(field = 'u24'): number {
    this.need(3, field)
    const b = this.buf, o = this.offset
    this.offset += 3
    return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!
  }
  u32(field = 'u32'): number {
    this.need(4, field)
    const b = this.buf, o = this.offset
    this.offset += 4
    return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!)
  }
  /** Returns a view (no copy) of the next n bytes; callers that keep it must copy. */
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field)
    const v = this.buf.subarray(this.offset, this.offset + n)
    this.offset += n
    return v
  }
  /** The rest of the buffer as a view. */
  rest(): Uint8Array { const v = this.buf.subarray(this.offset, this.end); this.offset = this.end; return v }
  skip(n: number, field = 'skip'): void { this.need(n, field); this.offset += n }
  /** A reader over the next n bytes (a nested TLV), advancing this one past them. */
  sub(n: number, field = 'sub'): ByteReader {
    this.need(n, field)
    const r = new ByteReader(this.buf, this.offset, this.offset + n)
    this.offset += n
    return r
  }
}

/** Writes big-endian fields into a growable buffer or a caller's fixed buffer (encodeInto). */
export class ByteWriter {
  private buf: Uint8Array
  private readonly fixed: boolean
  length = 0
  constructor(initialOrTarget: number | Uint8Array = 64) {
    if (typeof initialOrTarget === 'number') { this.buf = new Uint8Array(initialOrTarget); this.fixed = false } else { this.buf = initialOrTarget; this.fixed = true }
  }
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return
    if (this.fixed) throw new RangeError(`ByteWriter: target buffer of ${this.buf.length} bytes too small`)
    let size = this.buf.length * 2 || 64
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }
  u8(v: number): this { this.ensure(1); this.buf[this.length++] = v & 0xff; return this }
  u16(v: number): this { this.ensure(2); this.buf[this.length++] = (v >>> 8) & 0xff; this.buf[this.length++] = v & 0xff; return this }
  u24(v: number): this { this.ensure(3); this.buf[this.length++] = (v >>> 16) & 0xff; this.buf[this.length++] = (v >>> 8) & 0xff; this.buf[this.length++] = v & 0xff; return this }
  u32(v: number): this {
    this.ensure(4)
    this.buf[this.length++] = (v >>> 24) & 0xff; this.buf[this.length++] = (v >>> 16) & 0xff
    this.buf[this.length++] = (v >>> 8) & 0xff; this.buf[this.length++] = v & 0xff
    return this
  }
  bytes(b: Uint8Array): this { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; return this }
  zeros(n: number): this { this.ensure(n); this.buf.fill(0, this.length, this.length + n); this.length += n; return this }
  /** Overwrites a u16 at an earlier position (length fields written after the body). */
  patchU16(at: number, v: number): void { this.buf[at] = (v >>> 8) & 0xff; this.buf[at + 1] = v & 0xff }
  /** The written bytes as a view of the internal buffer (no copy). */
  view(): Uint8Array { return this.buf.subarray(0, this.length) }
  /** The written bytes as a fresh copy. */
  finish(): Uint8Array { return this.buf.slice(0, this.length) }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

export function toHex(b: Uint8Array): string { return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') }
export function fromHex(s: string): Uint8Array { return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex')) }
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
/** Constant-time comparison for MACs and authenticators: time depends only on the lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!
  return d === 0
}
export function utf8(s: string): Uint8Array { return new TextEncoder().encode(s) }
export function fromUtf8(b: Uint8Array): string { return new TextDecoder().decode(b) }

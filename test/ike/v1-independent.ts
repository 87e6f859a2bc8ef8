// Independent RFC 2408/2409 helpers for the wire tests: hand-walked payload chains, AES-CBC phase 1 decryption and
// SHA-256 prf, written from the RFC text without src/ike, so the wire tests check our encoder against a second reading.
import { createDecipheriv, createHash, createHmac } from 'node:crypto'

export const cat = (...p: Uint8Array[]): Buffer => Buffer.concat(p)
export const hmac = (k: Uint8Array, ...p: Uint8Array[]): Buffer => { const h = createHmac('sha256', k); for (const x of p) h.update(x); return h.digest() }
export const sha = (...p: Uint8Array[]): Buffer => { const h = createHash('sha256'); for (const x of p) h.update(x); return h.digest() }
export const be32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }

export interface WalkedPayload { readonly type: number; readonly body: Buffer; readonly whole: Buffer }

/** RFC 2408 §3.2 generic payload headers, walked by hand from `at`: [type, body, whole payload] and the chain's end. */
export function walk(first: number, buf: Buffer, at: number): { items: WalkedPayload[]; end: number } {
  const items: WalkedPayload[] = []
  let type = first
  while (type !== 0) {
    const next = buf[at]!, len = buf.readUInt16BE(at + 2)
    items.push({ type, body: buf.subarray(at + 4, at + len), whole: buf.subarray(at, at + len) })
    at += len
    type = next
  }
  return { items, end: at }
}
/** The payloads of a chain only. */
export const walkItems = (first: number, buf: Buffer, at: number): WalkedPayload[] => walk(first, buf, at).items

/** AES-256-CBC over everything after the 28-byte ISAKMP header (RFC 2409 Appendix B; no padding removed). */
export function decrypt(key: Uint8Array, iv: Uint8Array, msg: Uint8Array): Buffer {
  const d = createDecipheriv('aes-256-cbc', key, iv)
  d.setAutoPadding(false)
  return Buffer.concat([d.update(msg.subarray(28)), d.final()])
}
/** The last cipher block of a message: the next IV (RFC 2409 Appendix B). */
export const lastBlock = (msg: Uint8Array): Buffer => Buffer.from(msg.subarray(msg.length - 16))
export const body = (items: readonly { type: number; body: Buffer }[], type: number): Buffer => items.find((x) => x.type === type)!.body

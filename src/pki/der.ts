// Small DER building and reading helpers over node-forge's ASN.1 objects (X.690 DER), shared by
// the PKCS#12, CRL and certificate code. forge keeps byte strings as "binary strings"; these
// helpers convert at the edge so the rest of src/pki speaks Uint8Array.
import forge from 'node-forge'
import { VpnError } from '../lib/errors.js'

export type Asn1 = forge.asn1.Asn1
const { Class, Type } = forge.asn1
const U = Class.UNIVERSAL

export function bin(bytes: Uint8Array): string { return Buffer.from(bytes).toString('binary') }
export function unbin(s: string): Uint8Array { return new Uint8Array(Buffer.from(s, 'binary')) }

export const der = {
  seq: (...items: (Asn1 | undefined)[]): Asn1 => forge.asn1.create(U, Type.SEQUENCE, true, items.filter((x): x is Asn1 => x !== undefined)),
  set: (...items: Asn1[]): Asn1 => forge.asn1.create(U, Type.SET, true, items),
  oid: (dotted: string): Asn1 => forge.asn1.create(U, Type.OID, false, forge.asn1.oidToDer(dotted).getBytes()),
  int: (n: number): Asn1 => forge.asn1.create(U, Type.INTEGER, false, forge.asn1.integerToDer(n).getBytes()),
  /** A non-negative INTEGER from big-endian magnitude bytes (a 0x00 is prefixed if the top bit is set). */
  uint: (magnitude: Uint8Array): Asn1 => {
    let i = 0
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++
    const m = magnitude.subarray(i)
    const body = (m[0] ?? 0) & 0x80 ? Uint8Array.of(0, ...m) : m
    return forge.asn1.create(U, Type.INTEGER, false, bin(body.length ? body : Uint8Array.of(0)))
  },
  octets: (b: Uint8Array): Asn1 => forge.asn1.create(U, Type.OCTETSTRING, false, bin(b)),
  bits: (b: Uint8Array): Asn1 => forge.asn1.create(U, Type.BITSTRING, false, '\x00' + bin(b)),
  null: (): Asn1 => forge.asn1.create(U, Type.NULL, false, ''),
  bool: (v: boolean): Asn1 => forge.asn1.create(U, Type.BOOLEAN, false, v ? '\xff' : '\x00'),
  enumerated: (n: number): Asn1 => forge.asn1.create(U, Type.ENUMERATED, false, forge.asn1.integerToDer(n).getBytes()),
  bmp: (s: string): Asn1 => forge.asn1.create(U, Type.BMPSTRING, false, s),
  /** UTCTime for years 1950-2049, else GeneralizedTime (RFC 5280 §4.1.2.5 and §5.1.2.4). */
  time: (d: Date): Asn1 => d.getUTCFullYear() < 2050
    ? forge.asn1.create(U, Type.UTCTIME, false, forge.asn1.dateToUtcTime(d))
    : forge.asn1.create(U, Type.GENERALIZEDTIME, false, forge.asn1.dateToGeneralizedTime(d)),
  /** [tag] EXPLICIT: a constructed context-specific wrapper. */
  explicit: (tag: number, ...items: Asn1[]): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, true, items),
  /** [tag] IMPLICIT primitive (e.g. EncryptedContentInfo.encryptedContent). */
  implicitBytes: (tag: number, b: Uint8Array): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, false, bin(b)),
  toDer: (a: Asn1): Uint8Array => unbin(forge.asn1.toDer(a).getBytes()),
  // @types/node-forge only knows the boolean form; forge 1.x takes these options.
  fromDer: (b: Uint8Array): Asn1 => (forge.asn1.fromDer as unknown as (s: string, o: object) => Asn1)(bin(b), { strict: true, decodeBitStrings: false, parseAllBytes: true }),
}

/**
 * Reading side: every accessor throws VpnError ERR_PKI naming `what` when the structure is not the
 * expected one, so a damaged or hostile file surfaces as one clear error, never a TypeError.
 */
export function bad(what: string): never { throw new VpnError('ERR_PKI', `malformed ${what}`) }

export function children(a: Asn1 | undefined, what: string, min = 0): Asn1[] {
  if (!a || !Array.isArray(a.value) || a.value.length < min) bad(what)
  return a.value as Asn1[]
}
export function child(a: Asn1 | undefined, i: number, what: string): Asn1 {
  const c = children(a, what)[i]
  if (!c) bad(what)
  return c
}
export function bytesOf(a: Asn1 | undefined, what: string): Uint8Array {
  if (!a || typeof a.value !== 'string') bad(what)
  return unbin(a.value)
}
export function oidOf(a: Asn1 | undefined, what: string): string {
  if (!a || a.tagClass !== U || a.type !== Type.OID || typeof a.value !== 'string') bad(what)
  return forge.asn1.derToOid(a.value)
}
export function intOf(a: Asn1 | undefined, what: string, max = 0x7fffffff): number {
  if (!a || a.type !== Type.INTEGER || typeof a.value !== 'string' || a.value.length > 4) bad(what)
  const n = forge.asn1.derToInteger(a.value)
  if (!Number.isSafeInteger(n) || n < 0 || n > max) bad(what)
  return n
}
/** The content octets of an OCTET STRING, or the concatenated parts of a constructed (BER) one. */
export function octetsOf(a: Asn1 | undefined, what: string): Uint8Array {
  if (!a || a.type !== Type.OCTETSTRING) bad(what)
  if (typeof a.value === 'string') return unbin(a.value)
  return Buffer.concat(children(a, what).map((p) => bytesOf(p, what)))
}

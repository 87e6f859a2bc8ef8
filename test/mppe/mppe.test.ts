// MPPE data packets (RFC 3078 §3, §7) against RFC 3079 §3.5 samples and independently derived keys:
// header bits, stateless/stateful key changes, coherency wrap, and hostile input.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { MppeBits } from '../../src/auth/mppe-keys.js'
import { getNewKeyFromSha } from '../../src/auth/mppe-keys.js'
import { Rc4, rc4 } from '../../src/crypto/legacy/rc4.js'
import { DecodeError } from '../../src/lib/errors.js'
import { concatBytes, fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { MppeEncryptor } from '../../src/ppp/mppe/encryptor.js'
import { MppeDecryptor } from '../../src/ppp/mppe/decryptor.js'
import { MppeFlag, decodeMppeHeader, encodeMppeHeaderInto } from '../../src/ppp/mppe/header.js'
import { loadVectors } from '../crypto/load-vectors.js'

const v = loadVectors<{ masterKey: string; plaintext: string; cases: { section: string; bits: MppeBits; sendStartKey: string; sendSessionKey: string; encryptedTestMessage?: string }[] }>('mppe', 'rfc3079-samples')
const upper = (b: Uint8Array): string => toHex(b).toUpperCase()
const START128 = fromHex('8B7CDC149B993A1BA118CB153F56DCCB')

/** Independent key change (RFC 3078 §7.3 written out again): RC4(Interim, Interim), then the §3.1/3.2 prefix. */
function changeKey(start: Uint8Array, cur: Uint8Array, bits: MppeBits): Uint8Array {
  const interim = getNewKeyFromSha(start, cur, cur.length)
  const k = rc4(interim, interim)
  if (bits === 40) k.set([0xd1, 0x26, 0x9e]); else if (bits === 56) k[0] = 0xd1
  return k
}
function initialKey(start: Uint8Array, bits: MppeBits): Uint8Array {
  const k = getNewKeyFromSha(start, start, start.length)
  if (bits === 40) k.set([0xd1, 0x26, 0x9e]); else if (bits === 56) k[0] = 0xd1
  return k
}
const ipv4 = (n: number, len = 40): Uint8Array => { const b = new Uint8Array(len); b[0] = 0x00; b[1] = 0x21; b[2] = 0x45; for (let i = 3; i < len; i++) b[i] = (n * 7 + i) & 0xff; b[len - 1] = n & 0xff; b[len - 2] = n >>> 8; return b }
const enc = (e: MppeEncryptor, p: Uint8Array): Uint8Array => e.encryptInto(p, new Uint8Array(p.length + 2)).slice()
function dec(d: MppeDecryptor, c: Uint8Array): Uint8Array | undefined { const o = new Uint8Array(c.length); const n = d.decryptInto(c, o); return n < 0 ? undefined : o.subarray(0, n) }

test(`first stateful packet reproduces ${v.source.slice(0, 40)}…`, () => {
  for (const c of v.cases) {
    const e = new MppeEncryptor({ bits: c.bits, stateless: false, startKey: fromHex(c.sendStartKey) })
    const out = enc(e, utf8(v.plaintext))
    // RFC 3078 §3: D set, count 0, no flushed bit on the first packet (as Linux sends it).
    assert.equal(upper(out.subarray(0, 2)), '1000', `§${c.section} header`)
    const expected = c.encryptedTestMessage ?? upper(rc4(fromHex(c.sendSessionKey), utf8(v.plaintext)))
    assert.equal(upper(out.subarray(2)), expected, `§${c.section} ciphertext`)
  }
})

test('header: A/B/C/D bits and 12-bit count (RFC 3078 §3), hand-built bytes', () => {
  const b = new Uint8Array(2)
  encodeMppeHeaderInto(b, MppeFlag.Flushed | MppeFlag.Encrypted, 0xabc)
  assert.equal(toHex(b), '9abc')
  assert.deepEqual(decodeMppeHeader(fromHex('9abc')), { flags: 0x90, coherencyCount: 0xabc })
  assert.deepEqual(decodeMppeHeader(fromHex('1fff00')), { flags: 0x10, coherencyCount: 0xfff })
  encodeMppeHeaderInto(b, MppeFlag.Encrypted, 4096 + 5)
  assert.equal(toHex(b), '1005')
  assert.throws(() => decodeMppeHeader(fromHex('90')), DecodeError)
})

test('stateless: a new key before every packet, flushed bit on every packet (RFC 3078 §7.1)', () => {
  for (const bits of [40, 56, 128] as const) {
    const start = bits === 128 ? START128 : START128.subarray(0, 8)
    const e = new MppeEncryptor({ bits, stateless: true, startKey: start })
    let key = initialKey(start, bits)
    for (let i = 0; i < 20; i++) {
      key = changeKey(start, key, bits)
      const p = ipv4(i)
      const c = enc(e, p)
      assert.equal(c[0]! & 0xf0, 0x90, `packet ${i} flags`)
      assert.equal(decodeMppeHeader(c).coherencyCount, i)
      assert.deepEqual(c.subarray(2), rc4(key, p), `${bits}-bit packet ${i}`)
    }
  }
})

test('stateful: key change on every count ending in 0xFF, with the flushed bit, against independent keys (RFC 3078 §7.2)', () => {
  const start = START128
  const e = new MppeEncryptor({ bits: 128, stateless: false, startKey: start })
  let key = initialKey(start, 128)
  let ref = new Rc4(key)
  let changes = 0
  for (let i = 0; i < 800; i++) {
    const p = ipv4(i)
    const c = enc(e, p)
    const flag = (i & 0xff) === 0xff
    if (flag) { key = changeKey(start, key, 128); ref = new Rc4(key); changes++ }
    assert.equal(c[0]! & 0xf0, flag ? 0x90 : 0x10, `packet ${i} flags`)
    assert.deepEqual(c.subarray(2), ref.process(p), `packet ${i} ciphertext`)
  }
  assert.equal(changes, 3)
  assert.equal(e.keyChanges, 3)
})

test('stateful Reset-Request: one key change and a flushed packet, however many Requests came (RFC 3078 §8.2)', () => {
  const e = new MppeEncryptor({ bits: 128, stateless: false, startKey: START128 })
  let key = initialKey(START128, 128)
  const ref0 = new Rc4(key)
  assert.deepEqual(enc(e, ipv4(0)).subarray(2), ref0.process(ipv4(0)))
  e.resetRequested(); e.resetRequested()
  const c = enc(e, ipv4(1))
  key = changeKey(START128, key, 128)
  assert.equal(c[0], 0x90)
  assert.deepEqual(c.subarray(2), rc4(key, ipv4(1)))
  assert.equal(enc(e, ipv4(2))[0], 0x10)
  assert.equal(e.keyChanges, 1)
})

test('coherency count wraps at 4096 and both modes keep decrypting across the wrap', () => {
  for (const stateless of [true, false]) {
    const e = new MppeEncryptor({ bits: 128, stateless, startKey: START128 })
    const d = new MppeDecryptor({ bits: 128, stateless, startKey: START128 })
    for (let i = 0; i < 4100; i++) {
      const p = ipv4(i)
      const c = enc(e, p)
      assert.equal(decodeMppeHeader(c).coherencyCount, i % 4096)
      assert.deepEqual(dec(d, c), p, `stateless=${stateless} packet ${i}`)
    }
    // Stateful: one change per 256 packets (16 in 4096, then 0x0FF again at 4351 not reached).
    assert.equal(e.keyChanges, stateless ? 4100 : 16)
    assert.equal(d.keyChanges, e.keyChanges)
  }
})

test('a compressed (1-byte) Protocol field is expanded on receive (RFC 1661 §6.5)', () => {
  const e = new MppeEncryptor({ bits: 128, stateless: true, startKey: START128 })
  const d = new MppeDecryptor({ bits: 128, stateless: true, startKey: START128 }, { compressedProtocol: true })
  const strict = new MppeDecryptor({ bits: 128, stateless: true, startKey: START128 })
  const pfc = concatBytes(Uint8Array.of(0x21), ipv4(1).subarray(2))
  const c = enc(e, pfc)
  assert.deepEqual(dec(d, c), ipv4(1))
  assert.equal(dec(strict, c), undefined, 'without LCP PFC an odd first octet means a wrong key')
})

test('receiver drops: no D bit, C bit, short, stateless without flushed, duplicates, non-network protocol', () => {
  const e = new MppeEncryptor({ bits: 128, stateless: true, startKey: START128 })
  const d = new MppeDecryptor({ bits: 128, stateless: true, startKey: START128 })
  const c0 = enc(e, ipv4(0))
  const noD = c0.slice(); noD[0] = 0x80
  const withC = c0.slice(); withC[0] = 0xb0
  const noA = c0.slice(); noA[0] = 0x10
  assert.equal(dec(d, noD), undefined)
  assert.equal(dec(d, withC), undefined)
  assert.equal(dec(d, fromHex('9000')), undefined)
  assert.equal(dec(d, noA), undefined)
  assert.deepEqual(dec(d, c0), ipv4(0))
  assert.equal(dec(d, c0), undefined)
  const lcp = Uint8Array.of(0xc0, 0x21, 1, 2, 0, 4) // LCP must never travel inside MPPE
  assert.equal(dec(d, enc(e, lcp)), undefined)
  const s = d.counters.snapshot()
  for (const r of ['not-encrypted', 'compressed', 'short', 'stateless-not-flushed', 'duplicate', 'bad-protocol']) assert.equal(s[`drop.${r}`], 1, r)
})

test('close() zeroes keys: the encryptor refuses, the decryptor drops', () => {
  const start = START128.slice()
  const e = new MppeEncryptor({ bits: 128, stateless: true, startKey: start })
  const d = new MppeDecryptor({ bits: 128, stateless: true, startKey: start })
  const c = enc(e, ipv4(0))
  e.close(); d.close()
  assert.throws(() => enc(e, ipv4(1)), RangeError)
  assert.equal(dec(d, c), undefined)
  assert.deepEqual(start, START128, 'the caller\'s start key is copied, not consumed')
})

test('property: random bytes into the decryptor never throw and never yield a non-network protocol', () => {
  fc.assert(fc.property(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (stateless, pkts) => {
    const d = new MppeDecryptor({ bits: 128, stateless, startKey: START128 })
    for (const p of pkts) {
      const o = new Uint8Array(p.length)
      const n = d.decryptInto(p, o)
      if (n >= 0) { const proto = (o[0]! << 8) | o[1]!; assert.ok(proto >= 0x21 && proto <= 0xfa && (proto & 1) === 1) }
    }
  }), { numRuns: 300 })
})

test('property: encrypt then decrypt round-trips any network datagram in both modes and strengths', () => {
  fc.assert(fc.property(fc.boolean(), fc.constantFrom<MppeBits>(40, 56, 128), fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 30 }), (stateless, bits, payloads) => {
    const start = bits === 128 ? START128 : START128.subarray(0, 8)
    const e = new MppeEncryptor({ bits, stateless, startKey: start })
    const d = new MppeDecryptor({ bits, stateless, startKey: start })
    for (const pl of payloads) {
      const p = concatBytes(Uint8Array.of(0x00, 0x21), pl)
      assert.deepEqual(dec(d, enc(e, p)), p)
    }
  }), { numRuns: 100 })
})

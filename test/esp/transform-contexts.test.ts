// The long-lived AES-CBC contexts of EspTransform (src/esp/cbc-context.ts) against an independent
// per-packet builder (RFC 4303 §2 layout, RFC 3602 §2-3 CBC with an explicit IV, RFC 2104 HMAC
// truncated per RFC 2404 §2 / RFC 4868 §2.6): byte for byte over random keys, IVs and lengths, and
// the contexts dropped with the keys when an SA closes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { EspEncryption, EspIntegrity } from '../../src/esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm } from '../../src/esp/algorithms.js'
import { EspTransform, EspOpenFault } from '../../src/esp/transform.js'
import { CbcOpenContext, CbcSealContext } from '../../src/esp/cbc-context.js'
import { SUITES, saPair } from './harness.js'

const AES_CBC = [EspEncryption.AES_CBC_128, EspEncryption.AES_CBC_192, EspEncryption.AES_CBC_256]
const MACS = Object.values(EspIntegrity)

/** RFC 4303 §2: SPI | Seq | IV | E(payload | 1,2,3.. padding | pad length | next header) | ICV, built from scratch. */
function referenceSeal(enc: EspEncryptionAlgorithm, mac: EspIntegrityAlgorithm, key: Uint8Array, authKey: Uint8Array,
  spi: number, seq: number, seqHi: number | undefined, iv: Uint8Array, payload: Uint8Array, nextHeader: number): Uint8Array {
  const pad = (16 - ((payload.length + 2) % 16)) % 16
  const plain = Buffer.alloc(payload.length + pad + 2)
  plain.set(payload)
  for (let i = 0; i < pad; i++) plain[payload.length + i] = i + 1 // §2.4 default padding
  plain[plain.length - 2] = pad
  plain[plain.length - 1] = nextHeader
  const c = createCipheriv(enc.cipher, key, iv)
  c.setAutoPadding(false)
  const ct = Buffer.concat([c.update(plain), c.final()])
  const head = Buffer.alloc(8)
  head.writeUInt32BE(spi, 0)
  head.writeUInt32BE(seq, 4)
  const covered = Buffer.concat([head, iv, ct])
  const h = createHmac(mac.hash, authKey).update(covered)
  if (seqHi !== undefined) { const b = Buffer.alloc(4); b.writeUInt32BE(seqHi); h.update(b) } // RFC 4303 §3.3.2.1
  return Buffer.concat([covered, h.digest().subarray(0, mac.icvLength)])
}

const packetArb = fc.record({
  iv: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  payload: fc.uint8Array({ maxLength: 1600 }),
  nextHeader: fc.integer({ min: 0, max: 255 }),
  seq: fc.integer({ min: 1, max: 0xffffffff }),
  seqHi: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  offset: fc.integer({ min: 0, max: 40 }),
  inPlace: fc.boolean(),
})
const saArb = fc.record({
  alg: fc.constantFrom(...AES_CBC),
  mac: fc.constantFrom(...MACS),
  seed: fc.uint8Array({ minLength: 96, maxLength: 96 }),
  spi: fc.integer({ min: 256, max: 0xffffffff }),
})

test('property: a long-lived sealing context writes the same bytes as a fresh cipher per packet, packet after packet', () => {
  fc.assert(fc.property(saArb, fc.array(packetArb, { minLength: 1, maxLength: 8 }), (sa, packets) => {
    const key = sa.seed.slice(0, sa.alg.keyLength), authKey = sa.seed.slice(32, 32 + sa.mac.keyLength)
    const fast = new EspTransform(sa.alg, sa.mac, { encryptionKey: key, integrityKey: authKey })
    const slow = new EspTransform(sa.alg, sa.mac, { encryptionKey: key, integrityKey: authKey }, { reuseCipherContexts: false })
    for (const p of packets) {
      const expected = referenceSeal(sa.alg, sa.mac, key, authKey, sa.spi, p.seq, p.seqHi, p.iv, p.payload, p.nextHeader)
      const out = new Uint8Array(p.offset + fast.sealedLength(p.payload.length) + 3)
      let payload = p.payload
      if (p.inPlace) { out.set(p.payload, p.offset + 8 + 16); payload = out.subarray(p.offset + 24, p.offset + 24 + p.payload.length) }
      assert.equal(fast.seal(sa.spi, p.seq, p.seqHi, p.iv, payload, p.nextHeader, out, p.offset), expected.length)
      assert.deepEqual(Buffer.from(out.subarray(p.offset, p.offset + expected.length)), Buffer.from(expected))
      const out2 = new Uint8Array(expected.length)
      slow.seal(sa.spi, p.seq, p.seqHi, p.iv, p.payload, p.nextHeader, out2)
      assert.deepEqual(out2, out.subarray(p.offset, p.offset + expected.length))
    }
    assert.equal(fast.liveCipherContexts, 1)
    assert.equal(slow.liveCipherContexts, 0)
  }), { numRuns: 150 })
})

test('property: a long-lived opening context returns the plaintext of every packet, between refused ones', () => {
  fc.assert(fc.property(saArb, fc.array(fc.tuple(packetArb, fc.constantFrom('good', 'icv', 'length')), { minLength: 1, maxLength: 8 }), (sa, packets) => {
    const key = sa.seed.slice(0, sa.alg.keyLength), authKey = sa.seed.slice(32, 32 + sa.mac.keyLength)
    const t = new EspTransform(sa.alg, sa.mac, { encryptionKey: key, integrityKey: authKey })
    for (const [p, kind] of packets) {
      const pkt = Buffer.from(referenceSeal(sa.alg, sa.mac, key, authKey, sa.spi, p.seq, p.seqHi, p.iv, p.payload, p.nextHeader))
      if (kind === 'icv') { pkt[8 + (p.seq % (pkt.length - 8))]! ^= 0x01; assert.equal(t.open(pkt, p.seqHi), EspOpenFault.icv); continue }
      if (kind === 'length') { assert.equal(t.open(pkt.subarray(0, 8 + 16 + 8 + sa.mac.icvLength), p.seqHi), EspOpenFault.length); continue }
      const plain = t.open(pkt, p.seqHi)
      assert.ok(Buffer.isBuffer(plain))
      assert.deepEqual(plain.subarray(0, p.payload.length), Buffer.from(p.payload))
      assert.equal(plain[plain.length - 1], p.nextHeader)
      assert.equal(plain.length, pkt.length - 8 - 16 - sa.mac.icvLength)
    }
  }), { numRuns: 150 })
})

// RFC 3602 §4 Cases #1-#4 (raw AES-CBC-128, no ESP framing). Transcribed from a public C test file that
// quotes the RFC's section 4 in a comment, and cross-checked with two other public test files quoting the same cases.
const RFC3602_RAW = [
  { key: '06a9214036b8a15b512e03d534120006', iv: '3dafba429d9eb430b422da802c9fac41', plain: Buffer.from('Single block msg').toString('hex'), cipher: 'e353779c1079aeb82708942dbe77181a' },
  { key: 'c286696d887c9aa0611bbb3e2025a45a', iv: '562e17996d093d28ddb3ba695a2e6f58', plain: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', cipher: 'd296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1' },
  { key: '6c3ea0477630ce21a2ce334aa746c2cd', iv: 'c782dc4c098c66cbd9cd27d825682c81', plain: Buffer.from('This is a 48-byte message (exactly 3 AES blocks)').toString('hex'), cipher: 'd0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684' },
  { key: '56e47a38c5598974bc46903dba290349', iv: '8ce82eefbea0da3c44699ed7db51b7d9', plain: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf', cipher: 'c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55' },
]

RFC3602_RAW.forEach((v, i) => {
  test(`RFC 3602 §4 Case #${i + 1}: the long-lived contexts reproduce it, three times in a row on the same context`, () => {
    const key = Buffer.from(v.key, 'hex')
    const seal = new CbcSealContext('aes-128-cbc', key), open = new CbcOpenContext('aes-128-cbc', key)
    for (let k = 0; k < 3; k++) {
      const region = Buffer.concat([Buffer.alloc(16), Buffer.from(v.plain, 'hex')])
      seal.sealInPlace(Buffer.from(v.iv, 'hex'), region)
      assert.equal(region.toString('hex'), v.iv + v.cipher)
      assert.equal(open.open(region).toString('hex'), v.plain)
    }
  })
})

test('the IV on the wire is the caller\'s, also when the IV array is the packet\'s own IV slot', () => {
  const key = randomBytes(32)
  const ctx = new CbcSealContext('aes-256-cbc', key)
  for (let n = 0; n < 5; n++) {
    const region = randomBytes(16 + 16 * (n + 1))
    const iv = region.subarray(0, 16)
    const ivCopy = Buffer.from(iv)
    const plain = Buffer.from(region.subarray(16))
    ctx.sealInPlace(iv, region)
    const c = createCipheriv('aes-256-cbc', key, ivCopy).setAutoPadding(false)
    assert.deepEqual(region, Buffer.concat([ivCopy, c.update(plain), c.final()]))
  }
})

test('only AES-CBC keeps a long-lived context; 3DES-CBC and AES-GCM still make one per packet', () => {
  for (const suite of SUITES) {
    const p = saPair(suite, 0x8100)
    assert.ok(p.in.decrypt(p.out.encrypt(new Uint8Array(40), 17)!), suite.name)
    const live = (sa: object): number => (sa as { transform: EspTransform }).transform.liveCipherContexts
    const expected = suite.enc.cipher.startsWith('aes-') && suite.enc.cipher.endsWith('-cbc') ? 1 : 0
    assert.equal(live(p.out), expected, suite.name)
    assert.equal(live(p.in), expected, suite.name)
  }
})

test('close() zeroes the keys and ends the long-lived contexts: the OpenSSL objects are finished and dropped', () => {
  const suite = SUITES.find((s) => s.enc === EspEncryption.AES_CBC_256 && s.integ === EspIntegrity.HMAC_SHA1_96)!
  const p = saPair(suite, 0x8200)
  assert.ok(p.in.decrypt(p.out.encrypt(new Uint8Array(100), 17)!))
  type Inner = { transform: { liveCipherContexts: number; seal: EspTransform['seal']; key: Buffer; authKey: Buffer; sealCtx?: { enc?: { update(b: Uint8Array): Buffer } }; openCtx?: { dec?: { update(b: Uint8Array): Buffer } } } }
  const tout = (p.out as unknown as Inner).transform, tin = (p.in as unknown as Inner).transform
  const enc = tout.sealCtx!.enc!, dec = tin.openCtx!.dec!
  const sealCtx = tout.sealCtx as unknown as CbcSealContext, openCtx = tin.openCtx as unknown as CbcOpenContext
  p.out.close(); p.in.close()
  for (const t of [tout, tin]) {
    assert.equal(t.liveCipherContexts, 0)
    assert.ok(t.key.every((b) => b === 0) && t.authKey.every((b) => b === 0))
  }
  assert.equal(sealCtx.isLive, false)
  assert.equal(openCtx.isLive, false)
  // final() was called: Node has released the OpenSSL context and refuses further use.
  assert.throws(() => enc.update(new Uint8Array(16)))
  assert.throws(() => dec.update(new Uint8Array(32)))
  assert.throws(() => sealCtx.sealInPlace(new Uint8Array(16), new Uint8Array(32)), RangeError)
  assert.throws(() => openCtx.open(new Uint8Array(32)), RangeError)
  assert.throws(() => tout.seal(1, 1, undefined, new Uint8Array(16), new Uint8Array(1), 17, new Uint8Array(100)), RangeError)
})

test('a context that failed is replaced on the next packet, which still carries the right bytes', () => {
  const key = randomBytes(16), authKey = randomBytes(20)
  const t = new EspTransform(EspEncryption.AES_CBC_128, EspIntegrity.HMAC_SHA1_96, { encryptionKey: key, integrityKey: authKey })
  type Ctx = { sealCtx?: CbcSealContext; openCtx?: CbcOpenContext }
  const iv = randomBytes(16), payload = randomBytes(33)
  const first = new Uint8Array(t.sealedLength(33))
  t.seal(9, 1, undefined, iv, payload, 4, first)
  assert.ok(typeof t.open(first, undefined) !== 'string')
  ;(t as unknown as Ctx).sealCtx!.destroy() // what sealInPlace does when OpenSSL throws
  ;(t as unknown as Ctx).openCtx!.destroy()
  assert.equal(t.liveCipherContexts, 0)
  const out = new Uint8Array(t.sealedLength(33))
  t.seal(9, 2, undefined, iv, payload, 4, out)
  assert.deepEqual(Buffer.from(out), referenceSeal(EspEncryption.AES_CBC_128, EspIntegrity.HMAC_SHA1_96, key, authKey, 9, 2, undefined, iv, payload, 4))
  const plain = t.open(out, undefined)
  assert.ok(Buffer.isBuffer(plain) && plain.subarray(0, 33).equals(payload))
  assert.equal(t.liveCipherContexts, 2)
})

test('the contexts refuse what is not AES-CBC or not whole blocks (caller bugs, RangeError)', () => {
  assert.throws(() => new CbcSealContext('des-ede3-cbc', new Uint8Array(24)), RangeError)
  assert.throws(() => new CbcOpenContext('aes-128-gcm', new Uint8Array(16)), RangeError)
  const s = new CbcSealContext('aes-128-cbc', new Uint8Array(16))
  assert.throws(() => s.sealInPlace(new Uint8Array(16), new Uint8Array(40)), RangeError)
  assert.throws(() => s.sealInPlace(new Uint8Array(8), new Uint8Array(32)), RangeError)
  const o = new CbcOpenContext('aes-128-cbc', new Uint8Array(16))
  assert.throws(() => o.open(new Uint8Array(16)), RangeError)
  assert.throws(() => o.open(new Uint8Array(40)), RangeError)
  s.destroy(); s.destroy(); o.destroy(); o.destroy() // idempotent
})

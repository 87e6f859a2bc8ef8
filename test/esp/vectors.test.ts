// ESP transforms against published vectors: RFC 3602 §4 Cases #5-#8 (AES-CBC ESP packets),
// draft-mcgrew-gcm-test-01 §4 (AES-GCM ESP packets, 32-bit and extended sequence numbers),
// RFC 4868 §2.7.2 and RFC 2202 case 5 (truncated HMAC ICVs), and 3DES-CBC against our own DES.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, createHmac } from 'node:crypto'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { EspEncryption, EspIntegrity } from '../../src/esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm } from '../../src/esp/algorithms.js'
import { EspTransform, espIcv } from '../../src/esp/transform.js'
import { EspInboundSa } from '../../src/esp/sa-inbound.js'
import { espPadLength } from '../../src/esp/packet.js'
import { desEncryptBlock, desDecryptBlock } from '../../src/crypto/legacy/des.js'
import { hmacSha1 } from '../../src/crypto/hash.js'
import { loadEspVectors } from './load-vectors.js'

interface CbcCase { case: number; key: string; spi: number; seq: number; iv: string; nextHeader: number; padLength: number; payload: string; packet: string }
const cbc = loadEspVectors<{ cases: CbcCase[] }>('rfc3602-aes-cbc')

for (const c of cbc.cases) {
  test(`RFC 3602 §4 Case #${c.case}: sealing reproduces the ESP packet; HMAC-SHA1-96 covers header..ciphertext`, () => {
    // RFC 3602's cases carry no ICV; pair with HMAC-SHA1-96 and check the prefix and the ICV separately.
    const authKey = fromHex('0c'.repeat(20))
    const t = new EspTransform(EspEncryption.AES_CBC_128, EspIntegrity.HMAC_SHA1_96, { encryptionKey: fromHex(c.key), integrityKey: authKey })
    const payload = fromHex(c.payload)
    const out = new Uint8Array(t.sealedLength(payload.length))
    const n = t.seal(c.spi, c.seq, undefined, fromHex(c.iv), payload, c.nextHeader, out)
    assert.equal(n, out.length)
    const expected = fromHex(c.packet)
    assert.equal(toHex(out.subarray(0, expected.length)), c.packet, `${cbc.source}`)
    assert.equal(n, expected.length + 12)
    assert.equal(toHex(out.subarray(expected.length)), toHex(hmacSha1(authKey, expected).subarray(0, 12)))
  })

  test(`RFC 3602 §4 Case #${c.case}: the inbound SA opens it (pad length ${c.padLength}, next header ${c.nextHeader})`, () => {
    const authKey = fromHex('0c'.repeat(20))
    const expected = fromHex(c.packet)
    const packet = new Uint8Array(expected.length + 12)
    packet.set(expected)
    packet.set(hmacSha1(authKey, expected).subarray(0, 12), expected.length)
    const sa = new EspInboundSa({ spi: c.spi, encryption: EspEncryption.AES_CBC_128, integrity: EspIntegrity.HMAC_SHA1_96, keys: { encryptionKey: fromHex(c.key), integrityKey: authKey } })
    const r = sa.decrypt(packet)
    assert.ok(r, JSON.stringify(sa.counters()))
    assert.equal(r.nextHeader, c.nextHeader)
    assert.equal(r.sequenceNumber, c.seq)
    assert.equal(toHex(r.payload), c.payload)
    assert.equal(espPadLength(r.payload.length, 16), c.padLength)
  })
}

interface GcmCase { case: number; key: string; spi: string; esn: boolean; seqHi?: string; seq: string; nonce: string; plaintext: string; packet: string }
const gcm = loadEspVectors<{ cases: GcmCase[] }>('gcm-draft-mcgrew')
let gcmSealed = 0
const GCM_BY_KEY: Record<number, EspEncryptionAlgorithm> = { 16: EspEncryption.AES_GCM16_128, 24: EspEncryption.AES_GCM16_192, 32: EspEncryption.AES_GCM16_256 }

for (const c of gcm.cases) {
  test(`draft-mcgrew-gcm-test-01 case ${c.case} (${c.key.length * 4}-bit key, ${c.esn ? 'ESN' : '32-bit seq'}): seal and open`, () => {
    const alg = GCM_BY_KEY[c.key.length / 2]!
    const nonce = fromHex(c.nonce)
    // RFC 4106 §8.1: KEYMAT = AES key || 4-byte salt; the salt is the nonce's first 4 bytes (§4).
    const t = new EspTransform(alg, undefined, { encryptionKey: fromHex(c.key + c.nonce.slice(0, 8)) })
    const pt = fromHex(c.plaintext)
    const packet = fromHex(c.packet)
    const spi = parseInt(c.spi, 16), seq = parseInt(c.seq, 16)
    const seqHi = c.seqHi === undefined ? undefined : parseInt(c.seqHi, 16)
    assert.equal(toHex(packet.subarray(8, 16)), c.nonce.slice(8), 'explicit IV = nonce without salt')
    const opened = t.open(packet, seqHi)
    assert.ok(typeof opened !== 'string', `open: ${String(opened)}`)
    assert.equal(toHex(opened), c.plaintext, gcm.source)
    // Sealing: when the vector's padding is the minimal default, our output is byte-identical.
    const padLength = pt[pt.length - 2]!
    const payload = pt.subarray(0, pt.length - 2 - padLength)
    if (espPadLength(payload.length, alg.blockSize) === padLength) {
      const out = new Uint8Array(t.sealedLength(payload.length))
      t.seal(spi, seq, seqHi, nonce.subarray(4), payload, pt[pt.length - 1]!, out)
      assert.equal(toHex(out), c.packet)
      gcmSealed++
    }
    // A flipped ICV bit, ciphertext bit or AAD (sequence) bit is refused.
    for (const at of [packet.length - 1, 16, 7]) {
      const bad = packet.slice(); bad[at] = bad[at]! ^ 1
      assert.equal(t.open(bad, seqHi), 'icv', `flip at ${at}`)
    }
    if (seqHi !== undefined) assert.equal(t.open(packet, (seqHi + 1) >>> 0), 'icv', 'wrong ESN high half')
  })
}

test('draft-mcgrew-gcm-test-01: every case with default minimal padding was also sealed byte for byte', () => {
  assert.equal(gcmSealed, gcm.cases.length)
})

test('draft-mcgrew-gcm-test-01 32-bit-sequence cases open through an inbound SA with the padding check', () => {
  let n = 0
  for (const c of gcm.cases.filter((x) => !x.esn && parseInt(x.spi, 16) !== 0)) {
    const sa = new EspInboundSa({ spi: parseInt(c.spi, 16), encryption: GCM_BY_KEY[c.key.length / 2]!, keys: { encryptionKey: fromHex(c.key + c.nonce.slice(0, 8)) } })
    const r = sa.decrypt(fromHex(c.packet))
    assert.ok(r, `case ${c.case}: ${JSON.stringify(sa.counters())}`)
    const pt = fromHex(c.plaintext)
    assert.equal(r.nextHeader, pt[pt.length - 1])
    assert.equal(toHex(r.payload), toHex(pt.subarray(0, pt.length - 2 - pt[pt.length - 2]!)))
    n++
  }
  assert.ok(n >= 4)
})

interface IcvCase { alg: string; ref: string; key: string; data: string; icv: string }
const icv = loadEspVectors<{ cases: IcvCase[] }>('hmac-icv')
const INTEG: Record<string, EspIntegrityAlgorithm> = Object.fromEntries(Object.values(EspIntegrity).map((a) => [a.name, a]))

test('truncated HMAC ICVs: RFC 4868 §2.7.2 (SHA-256/384/512) and RFC 2202 case 5 digest-96 (SHA-1, MD5)', () => {
  for (const c of icv.cases) {
    const alg = INTEG[c.alg]
    assert.ok(alg, c.alg)
    assert.equal(toHex(espIcv(alg, fromHex(c.key), fromHex(c.data))), c.icv, `${c.ref} (${icv.source})`)
    assert.equal(alg.icvLength, c.icv.length / 2, `${c.ref}: ICV length`)
  }
})

test('RFC 4868 §2.7.2 keys are the hash output size, as the table says (RFC 4868 §2.1.1)', () => {
  for (const c of icv.cases.filter((x) => x.ref.startsWith('RFC 4868'))) assert.equal(INTEG[c.alg]!.keyLength, c.key.length / 2, c.ref)
})

test('ESN: the ICV covers the high 32 bits appended after the packet (RFC 4303 §3.3.2.1)', () => {
  const key = fromHex('11'.repeat(20))
  const covered = fromHex('0000abcd00000001' + '22'.repeat(32))
  const h = createHmac('sha1', key); h.update(covered); h.update(fromHex('00000007'))
  assert.equal(toHex(espIcv(EspIntegrity.HMAC_SHA1_96, key, covered, 7)), h.digest('hex').slice(0, 24))
})

/** 3DES-EDE-CBC decryption built from our own DES block function (src/crypto/legacy/des.ts, FIPS 81 / SP 800-17 tested). */
function des3CbcDecrypt(key: Uint8Array, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  const k1 = key.subarray(0, 8), k2 = key.subarray(8, 16), k3 = key.subarray(16, 24)
  const out = new Uint8Array(ct.length)
  let prev = iv
  for (let o = 0; o < ct.length; o += 8) {
    const c = ct.subarray(o, o + 8)
    // RFC 2451 §2.2 / FIPS 46-3: EDE encryption E_k3(D_k2(E_k1(x))), so decryption is D_k1(E_k2(D_k3(c))).
    const x = desDecryptBlock(k1, desEncryptBlock(k2, desDecryptBlock(k3, c)))
    for (let i = 0; i < 8; i++) out[o + i] = x[i]! ^ prev[i]!
    prev = c
  }
  return out
}

test('3DES-CBC ESP (RFC 2451): the sealed ciphertext decrypts with an independent DES-EDE-CBC to payload + 1,2,3.. padding + trailer', () => {
  const key = fromHex('0123456789abcdef23456789abcdef01456789abcdef0123')
  const authKey = fromHex('aa'.repeat(20))
  const iv = fromHex('1234567890abcdef')
  const t = new EspTransform(EspEncryption.DES3_CBC, EspIntegrity.HMAC_SHA1_96, { encryptionKey: key, integrityKey: authKey })
  const payload = fromHex('4500001c000100004001f98dc0a80001c0a800020800f7ff00000000ab')
  const out = new Uint8Array(t.sealedLength(payload.length))
  const n = t.seal(0x1000, 3, undefined, iv, payload, 4, out)
  // 29 + 2 = 31 -> 32: 8-byte blocks (RFC 2451 §2.3), one pad byte.
  assert.equal(n, 8 + 8 + 32 + 12)
  assert.equal(toHex(out.subarray(0, 16)), '00001000000000031234567890abcdef')
  const plain = des3CbcDecrypt(key, iv, out.subarray(16, 48))
  assert.equal(toHex(plain), toHex(payload) + '01' + '01' + '04')
  assert.equal(toHex(out.subarray(48)), toHex(hmacSha1(authKey, out.subarray(0, 48)).subarray(0, 12)))
})

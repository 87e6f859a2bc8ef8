// The groundwork composed by hand as main mode (PSK) + quick mode would use it: two sides derive the same
// SKEYIDs (RFC 2409 §5), message 5/6 travel encrypted with the phase 1 IV chain (App. B), quick mode
// starts from hash(last phase-1 block | M-ID), HASH(1) covers the bytes after the HASH payload (§5.5).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { utf8 } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { IKE_HASHES, ikeCipher } from '../../src/ike/v1/crypto/algorithms.js'
import { DhExchange } from '../../src/ike/v1/crypto/dh.js'
import { deriveSkeyids, encryptionKey, hashI, quickHash1, quickModeKeymat, skeyidPsk } from '../../src/ike/v1/crypto/keys.js'
import { phase1Iv, phase2Iv } from '../../src/ike/v1/crypto/cbc.js'
import { bytesAfterFirstPayload, openMessage, sealMessage } from '../../src/ike/v1/crypto/protect.js'
import { encodePayloadChain, payloadBody } from '../../src/ike/v1/message/message.js'
import type { IsakmpPayload } from '../../src/ike/v1/message/payloads.js'
import { EXCHANGE_RULES, checkMessage } from '../../src/ike/v1/message/exchange-rules.js'
import { OakleyEncryption, OakleyHash } from '../../src/ike/v1/oakley.js'
import { fixedRng } from '../helpers/clock.js'

const h = IKE_HASHES[OakleyHash.Sha1]!
const c = ikeCipher(OakleyEncryption.AesCbc, 256)!
const ckyI = fixedRng(10).bytes(8), ckyR = fixedRng(11).bytes(8)
const hdr = (exchangeType: number, messageId: number) => ({ initiatorCookie: ckyI, responderCookie: ckyR, version: 0x10, exchangeType, flags: 0, messageId })

function phase1() {
  const i = new DhExchange(14, fixedRng(1)), r = new DhExchange(14, fixedRng(2))
  const ni = fixedRng(3).bytes(32), nr = fixedRng(4).bytes(32)
  const psk = utf8('correct horse battery staple')
  const side = (mine: DhExchange, peer: Uint8Array) => {
    const gxy = mine.computeShared(peer)!
    const skeyid = skeyidPsk(h, psk, ni, nr)
    const k = deriveSkeyids(h, skeyid, gxy, ckyI, ckyR)
    return { skeyid, ...k, key: encryptionKey(h, k.e, c.keyLength) }
  }
  return { i, r, ni, nr, ki: side(i, r.publicValue), kr: side(r, i.publicValue) }
}

test('both sides derive the same SKEYID family and AES-256 key (App. B expands SHA-1 SKEYID_e)', () => {
  const { ki, kr } = phase1()
  assert.deepEqual(ki, kr)
  assert.equal(ki.key.length, 32)
})

test('main mode 5 and 6 encrypted with the phase 1 IV chain, then quick mode 1 with its own IV and HASH(1)', () => {
  const { i, r, ni, nr, ki, kr } = phase1()
  const saiB = encodePayloadChain([{ payload: 'sa', doi: 1, situation: 1, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ number: 1, transformId: 1, attributes: [{ type: 1, value: 7 }] }] }] }]).subarray(4)
  const x = { gxi: i.publicValue, gxr: r.publicValue, ckyI, ckyR, saiB }
  const id: IsakmpPayload = { payload: 'id', idType: 1, protocolId: 17, port: 500, data: Uint8Array.of(198, 18, 0, 1) }
  const idiiB = encodePayloadChain([id]).subarray(4)

  // Message 5, initiator -> responder.
  let ivI = phase1Iv(h, c, i.publicValue, r.publicValue)
  let ivR = phase1Iv(h, c, i.publicValue, r.publicValue)
  const m5 = sealMessage(hdr(2, 0), [id, { payload: 'hash', data: hashI(h, ki.skeyid, x, idiiB) }], c, ki.key, ivI)
  ivI = m5.nextIv
  const o5 = openMessage(m5.bytes, c, kr.key, ivR)
  assert.equal(checkMessage(EXCHANGE_RULES.mainMode5, o5.spans.map((s) => s.payloadType), o5.header.flags), undefined)
  const gotHash = o5.payloads[1]!
  assert.ok(gotHash.payload === 'hash' && Buffer.from(gotHash.data).equals(Buffer.from(hashI(h, kr.skeyid, x, payloadBody(o5.plaintext, o5.spans[0]!)))))
  ivR = o5.nextIv // committed only because HASH_I verified

  // Message 6, responder -> initiator, chains from message 5's last block on both sides.
  const m6 = sealMessage(hdr(2, 0), [id, { payload: 'hash', data: new Uint8Array(20) }], c, kr.key, ivR)
  const o6 = openMessage(m6.bytes, c, ki.key, ivI)
  assert.equal(o6.payloads[0]!.payload, 'id')
  const lastPhase1Block = o6.nextIv
  assert.deepEqual(lastPhase1Block, m6.nextIv)

  // Quick mode 1 under its own IV: hash(last phase-1 block | M-ID).
  const mid = 0x1234abcd
  const rest: IsakmpPayload[] = [
    { payload: 'sa', doi: 1, situation: 1, proposals: [{ number: 1, protocolId: 3, spi: Uint8Array.of(0xc0, 0xff, 0xee, 0x01), transforms: [{ number: 1, transformId: 12, attributes: [{ type: 6, value: 256 }, { type: 4, value: 4 }] }] }] },
    { payload: 'nonce', data: ni },
  ]
  const h1 = quickHash1(h, ki.a, mid, encodePayloadChain(rest))
  const qm1 = sealMessage(hdr(32, mid), [{ payload: 'hash', data: h1 }, ...rest], c, ki.key, phase2Iv(h, c, lastPhase1Block, mid))
  const oq = openMessage(qm1.bytes, c, kr.key, phase2Iv(h, c, lastPhase1Block, mid))
  assert.equal(checkMessage(EXCHANGE_RULES.quickMode1, oq.spans.map((s) => s.payloadType), oq.header.flags), undefined)
  const got = oq.payloads[0]!
  assert.ok(got.payload === 'hash')
  assert.deepEqual(got.data, quickHash1(h, kr.a, oq.header.messageId, bytesAfterFirstPayload(oq.plaintext, oq)))

  // Both sides compute the same inbound KEYMAT for the initiator's SPI.
  const args = { protocol: 3, spi: Uint8Array.of(0xc0, 0xff, 0xee, 0x01), niB: ni, nrB: nr }
  assert.deepEqual(quickModeKeymat(h, ki.d, args, 52), quickModeKeymat(h, kr.d, args, 52))

  // The wrong IV (the phase 1 chain instead of the quick mode IV) breaks the first block: never a throw other than DecodeError.
  try {
    const bad = openMessage(qm1.bytes, c, kr.key, lastPhase1Block)
    assert.notDeepEqual(bad.payloads[0], got)
  } catch (e) { assert.ok(e instanceof DecodeError) }
})

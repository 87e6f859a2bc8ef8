// DPD, rekey DELETE and RESPONDER-LIFETIME on the wire, checked by independent code written from the RFCs
// (node:crypto HMAC/AES/DH, hand-walked payloads): the informational IV and HASH(1) (RFC 2409 App. B, §5.7),
// R-U-THERE / R-U-THERE-ACK layout and sequence numbers (RFC 3706 §5.3, §7), DELETE of the old ESP SPI
// (RFC 2408 §3.15), RESPONDER-LIFETIME attributes in quick mode 2 (RFC 2407 §4.6.3.1).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDiffieHellman } from 'node:crypto'
import type { Rng } from '../../src/crypto/rng.js'
import { MODP_2048_PRIME } from '../../src/ike/v1/crypto/dh.js'
import { fixedRng } from '../helpers/clock.js'
import { childOf, pair } from './v1-harness.js'
import type { PairOptions } from './v1-harness.js'
import { be32, body, decrypt, hmac, lastBlock, sha, walk } from './v1-independent.js'

/** A pair whose phase 1 keys are re-derived from the initiator's recorded randomness (RFC 2409 §5, App. B). */
function keyedPair(opts: PairOptions) {
  const draws: Uint8Array[] = []
  const base = fixedRng(4242)
  const rec: Rng = { bytes(n) { const b = base.bytes(n); draws.push(new Uint8Array(b)); return b } }
  const p = pair({ ...opts, iExtra: { ...opts.iExtra, rng: rec } })
  p.connect()
  p.pump()
  const m = p.log.map((l) => Buffer.from(l.data))
  const ckyI = m[0]!.subarray(0, 8), ckyR = m[1]!.subarray(8, 16)
  const mm3 = walk(m[2]![16]!, m[2]!, 28), mm4 = walk(m[3]![16]!, m[3]!, 28)
  const ni = body(mm3.items, 10), gxr = body(mm4.items, 4), nr = body(mm4.items, 10)
  const priv = draws[draws.findIndex((d) => Buffer.from(d).equals(ni)) - 1]!
  const dh = createDiffieHellman(Buffer.from(MODP_2048_PRIME), Buffer.from([2]))
  dh.setPrivateKey(Buffer.from(priv))
  dh.generateKeys()
  const gxy = Buffer.alloc(256); const s = dh.computeSecret(gxr); s.copy(gxy, 256 - s.length)
  const skeyid = hmac(Buffer.from('shared secret'), ni, nr)
  const d = hmac(skeyid, gxy, ckyI, ckyR, Buffer.of(0))
  const a = hmac(skeyid, d, gxy, ckyI, ckyR, Buffer.of(1))
  const key = hmac(skeyid, a, gxy, ckyI, ckyR, Buffer.of(2)).subarray(0, 32)
  const phase1Last = lastBlock(m[5]!)
  /** Opens a later exchange (quick mode 1, or an informational): IV = hash(last phase 1 block | M-ID) (App. B). */
  const openFirst = (msg: Uint8Array) => {
    const mid = Buffer.from(msg).readUInt32BE(20)
    const plain = decrypt(key, sha(phase1Last, be32(mid)).subarray(0, 16), msg)
    return { mid, plain, chain: walk(msg[16]!, plain, 0) }
  }
  /** RFC 2409 §5.7: HASH(1) = prf(SKEYID_a, M-ID | N/D). */
  const hash1Ok = (o: ReturnType<typeof openFirst>) => o.chain.items[0]!.type === 8 && o.chain.items[0]!.body.equals(hmac(a, be32(o.mid), o.plain.subarray(o.chain.items[1]!.whole.byteOffset - o.plain.byteOffset, o.chain.end)))
  return { p, key, ckyI, ckyR, openFirst, hash1Ok }
}

test('R-U-THERE and R-U-THERE-ACK on the wire: protected informational, cookie SPI, sequence echoed, +1 per send', () => {
  const k = keyedPair({ seed: 600, rExtra: { dpd: false } })
  const { p } = k
  const start = p.log.length
  // 30 s idle: the initiator probes; cut the answers so that it also retransmits once.
  p.clock.now += 30_000
  p.i.handleTimeout(p.clock.now)
  p.pump()
  p.clock.now += 30_000
  p.i.handleTimeout(p.clock.now)
  p.pump((n, from) => (from === 'r' ? 'drop' : 'ok'))
  p.clock.now += 2_000
  p.i.handleTimeout(p.clock.now)
  p.pump()
  const info = p.log.slice(start).map((l) => ({ from: l.from, data: Buffer.from(l.data) }))
  assert.deepEqual(info.map((x) => `${x.from}${x.data[18]}`), ['i5', 'r5', 'i5', 'r5', 'i5', 'r5'], 'three R-U-THERE, three ACKs (the middle ACK lost)')
  const seqs: number[] = []
  for (const [n, x] of info.entries()) {
    assert.equal(x.data[19]! & 1, 1, 'E flag')
    const o = k.openFirst(x.data)
    assert.ok(k.hash1Ok(o), `HASH(1) of message ${n}`)
    assert.deepEqual(o.chain.items.map((i) => i.type), [8, 11], 'HDR*, HASH(1), N')
    const nb = o.chain.items[1]!.body
    assert.equal(nb.readUInt32BE(0), 1, 'DOI IPsec')
    assert.deepEqual([nb[4], nb[5], nb.readUInt16BE(6)], [1, 16, x.from === 'i' ? 36136 : 36137], 'protocol ISAKMP, SPI size 16, R-U-THERE / ACK')
    assert.ok(nb.subarray(8, 24).equals(Buffer.concat([k.ckyI, k.ckyR])), 'SPI = CKY-I | CKY-R')
    assert.equal(nb.length, 28, 'a 4-byte sequence number')
    seqs.push(nb.readUInt32BE(24))
  }
  const [s1, a1, s2, a2, s3, a3] = seqs
  assert.equal(a1, s1); assert.equal(a2, s2); assert.equal(a3, s3)
  assert.equal(s2, (s1! + 1) >>> 0); assert.equal(s3, (s2! + 1) >>> 0, 'the retransmission is a new R-U-THERE with the next number')
  assert.notEqual(k.openFirst(info[0]!.data).mid, k.openFirst(info[2]!.data).mid, 'a fresh message ID per informational')
  // The second ACK was lost; the ACK of the retransmission (same round, next number) ends the probe.
  assert.equal(p.i.counters()['rx:dpd:ack'], 2)
  assert.equal(p.i.counters()['tx:dpd:retransmit'], 1)
})

test('rekey on the wire: the old inbound SPI is deleted through a protected informational after the overlap', () => {
  const k = keyedPair({ seed: 610, extra: { dpd: false } })
  const { p } = k
  const [ci1] = childOf(p.events.i)
  assert.equal(p.i.rekeyChild(p.clock.now, ci1!.inbound.spi), true)
  p.pump()
  const mark = p.log.length
  p.clock.now += 10_000
  p.i.handleTimeout(p.clock.now); p.r.handleTimeout(p.clock.now)
  p.pump()
  const sent = p.log.slice(mark)
  assert.deepEqual(sent.map((l) => `${l.from}${l.data[18]}`), ['i5'])
  const o = k.openFirst(sent[0]!.data)
  assert.ok(k.hash1Ok(o))
  assert.deepEqual(o.chain.items.map((i) => i.type), [8, 12], 'HDR*, HASH(1), D')
  const db = o.chain.items[1]!.body
  assert.deepEqual([db.readUInt32BE(0), db[4], db[5], db.readUInt16BE(6)], [1, 3, 4, 1], 'DOI IPsec, protocol ESP, SPI size 4, one SPI')
  assert.equal(db.readUInt32BE(8), ci1!.inbound.spi, 'our old inbound SPI (the peer drops its outbound one)')
})

test('RESPONDER-LIFETIME in quick mode 2: protocol ESP, the responder\'s SPI, SA Life Type seconds + Duration (RFC 2407 §4.6.3.1)', () => {
  const k = keyedPair({ seed: 620, rExtra: { childLifetimeSeconds: 1200 } })
  const m = k.p.log.map((l) => Buffer.from(l.data))
  const q1 = k.openFirst(m[6]!)
  // Quick mode 2 chains from quick mode 1's last block (App. B).
  const q2p = decrypt(k.key, lastBlock(m[6]!), m[7]!)
  const q2 = walk(m[7]![16]!, q2p, 0)
  assert.deepEqual(q2.items.map((i) => i.type), [8, 1, 10, 11, 5, 5], 'HASH(2), SA, Nr, N(RESPONDER-LIFETIME), IDci, IDcr')
  const nb = body(q2.items, 11)
  const spiR = body(q2.items, 1).subarray(16, 20)
  assert.deepEqual([nb.readUInt32BE(0), nb[4], nb[5], nb.readUInt16BE(6)], [1, 3, 4, 24576])
  assert.ok(nb.subarray(8, 12).equals(spiR), 'the SPI of the responder\'s SA')
  assert.ok(nb.subarray(12).equals(Buffer.of(0x80, 0x01, 0x00, 0x01, 0x80, 0x02, 0x04, 0xb0)), 'TV SA Life Type = seconds, TV SA Life Duration = 1200')
  // The initiator offered 3600 s in quick mode 1 (the proposal's life attributes).
  assert.ok(body(q1.chain.items, 1).includes(Buffer.of(0x80, 0x02, 0x0e, 0x10)))
  const [ci, cr] = [childOf(k.p.events.i)[0]!, childOf(k.p.events.r)[0]!]
  assert.equal(ci.lifetimeSeconds, 1200); assert.equal(cr.lifetimeSeconds, 1200)
})

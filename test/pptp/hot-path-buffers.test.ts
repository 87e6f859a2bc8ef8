// The PPTP data path writes packets into shared slab blocks instead of one array per packet: two
// consecutive outputs (GRE packets, MPPE frames, decrypted datagrams) must never alias each other.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GreCall } from '../../src/pptp/gre/call.js'
import { decodeGre } from '../../src/pptp/gre/packet.js'
import { decodeFrame } from '../../src/ppp/frame.js'
import { DEFAULT_MPPE_POLICY, type MppePolicy } from '../../src/ppp/ccp/policy.js'
import type { PppEvent } from '../../src/ppp/types.js'
import { bytesEqual, fromHex } from '../../src/lib/bytes.js'
import { Pair } from '../ppp/pair-harness.js'

const frame = (n: number, len = 40): Uint8Array => { const f = new Uint8Array(len); f.set([0xff, 0x03, 0x00, 0x21]); f.fill(n & 0xff, 4); return f }
const ipv4 = (n: number): Uint8Array => { const p = fromHex('450000200001000040110000c613000ac6130001' + '1234abcd00080000' + 'deadbeef'); p[28] = n; p[31] = n; return p }

test('GreCall.sendFrame: consecutive packets stay distinct and intact, with and without a piggybacked ack (RFC 2637 §4.1)', () => {
  const a = new GreCall({ localCallId: 1, peerCallId: 2, peerReceiveWindow: 64 })
  const b = new GreCall({ localCallId: 2, peerCallId: 1, peerReceiveWindow: 64 })
  const out: Uint8Array[] = []
  for (let i = 0; i < 50; i++) {
    out.push(a.sendFrame(frame(i)))
    // Every 7th packet gets an answer, so the next one of ours carries an ack (16-byte header).
    if (i % 7 === 0) { a.handlePacket(0, b.sendFrame(frame(200 + i))); a.pollFrame() }
  }
  let acks = 0
  out.forEach((p, i) => {
    const g = decodeGre(p)
    assert.equal(g.sequenceNumber, i)
    if (g.acknowledgmentNumber !== undefined) acks++
    assert.equal(p.length, (g.acknowledgmentNumber !== undefined ? 16 : 12) + 40, 'sized exactly')
    assert.ok(bytesEqual(g.payload, frame(i)), `packet ${i} intact after later sends`)
  })
  assert.ok(acks >= 7)
})

test('MPPE session: consecutive encodeIp frames and decrypted ip events do not alias (slab regions)', () => {
  const policy: MppePolicy = { required: true, keyBits: [128], stateless: 'allowed' }
  const p = new Pair({ server: { authMethods: ['mschapv2'], mppe: DEFAULT_MPPE_POLICY }, client: { acceptAuthMethods: ['mschapv2'], mppe: policy } })
  p.open()
  p.run(100)
  assert.ok(p.find('server', 'up'))
  const frames: Uint8Array[] = []
  for (let i = 0; i < 40; i++) frames.push(p.client.encodeIp(ipv4(i))!)
  for (const f of frames) assert.equal(decodeFrame(f).protocol, 0x00fd)
  for (let i = 0; i < frames.length; i++) for (let j = i + 1; j < frames.length; j++) assert.ok(!bytesEqual(frames[i]!, frames[j]!), `frames ${i} and ${j} differ`)
  // Keep every event's view (no copy) while later frames are decrypted.
  const kept: Uint8Array[] = []
  const before = p.serverEvents.length
  for (const f of frames) p.server.handleFrame(p.clock.now, f)
  for (let e: PppEvent | undefined = p.server.pollEvent(); e; e = p.server.pollEvent()) if (e.type === 'ip') kept.push(e.packet)
  for (const e of p.serverEvents.slice(before)) if (e.type === 'ip') kept.push(e.packet)
  assert.equal(kept.length, 40)
  kept.forEach((k, i) => assert.ok(bytesEqual(k, ipv4(i)), `datagram ${i} intact after 39 more decrypts`))
})

// CCP (RFC 1962) with MPPE option 18 (RFC 3078 §2) on the RFC 1661 automaton: hand-written packets,
// negotiation pairs, policy failures, and Reset-Request/Reset-Ack (RFC 1962 §2.1).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm } from '../../src/ppp/fsm/fsm.js'
import { CcpStrategy } from '../../src/ppp/ccp/ccp.js'
import { CcpLayer } from '../../src/ppp/ccp/layer.js'
import { DEFAULT_MPPE_POLICY, type MppePolicy } from '../../src/ppp/ccp/policy.js'
import { decodeMppeBits, MppeBit } from '../../src/ppp/ccp/options.js'
import { DecodeError } from '../../src/lib/errors.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { MASTER, ccpPair } from './harness.js'

function strategy(policy: MppePolicy = DEFAULT_MPPE_POLICY): { fsm: Fsm; out: () => string[]; failures: string[]; ups: unknown[] } {
  const failures: string[] = []
  const ups: unknown[] = []
  const s = new CcpStrategy(policy, { up: (_t, m) => ups.push(m), down: () => {}, finished: () => {}, failed: (_t, r) => failures.push(r), renegotiate: () => {} }, () => 0)
  const fsm = new Fsm(s)
  const out = (): string[] => { const r: string[] = []; for (let p = fsm.pollPacket(); p; p = fsm.pollPacket()) r.push(toHex(p)); return r }
  fsm.up(0); fsm.open(0)
  return { fsm, out, failures, ups }
}

test('option 18 Supported Bits: H is bit 24, M/S/L/D/C the low octet (RFC 3078 §2)', () => {
  assert.equal(decodeMppeBits({ type: 18, data: fromHex('01000040') }), MppeBit.H | MppeBit.S)
  assert.equal(decodeMppeBits({ type: 18, data: fromHex('000000e1') }), MppeBit.M | MppeBit.S | MppeBit.L | MppeBit.C)
  assert.throws(() => decodeMppeBits({ type: 18, data: fromHex('000040') }), DecodeError)
})

test('the gateway requests 128-bit stateless: 12 06 01000040', () => {
  assert.deepEqual(strategy().out(), ['0101000a' + '120601000040'])
  assert.deepEqual(strategy({ required: true, keyBits: [40, 56, 128], stateless: 'refused' }).out(), ['0101000a' + '1206000000e0'])
})

test('server Naks a 40+128 stateless offer toward 128, then Acks the single choice', () => {
  const { fsm, out } = strategy()
  out()
  fsm.handlePacket(1, fromHex('0107000a' + '120601000060'))
  assert.deepEqual(out(), ['0307000a' + '120601000040'])
  fsm.handlePacket(1, fromHex('0108000a' + '120601000040'))
  assert.deepEqual(out(), ['0208000a' + '120601000040'])
})

test('server never negotiates MPPC: the C bit is Naked away; other CCP options are Rejected', () => {
  const { fsm, out } = strategy()
  out()
  fsm.handlePacket(1, fromHex('0101000a' + '120601000041'))
  assert.deepEqual(out(), ['0301000a' + '120601000040'])
  // Deflate (26, RFC 1979) and BSD-Compress (21, RFC 1977) next to MPPE: both Rejected, MPPE untouched.
  fsm.handlePacket(1, fromHex('01020011' + '120601000040' + '1a047800' + '150341'))
  assert.deepEqual(out(), ['0402000b' + '1a047800' + '150341'])
})

test('server Naks a 40-bit-only offer toward 128 once, then ends with mppe-required', () => {
  const { fsm, out, failures } = strategy()
  out()
  fsm.handlePacket(1, fromHex('0101000a' + '120601000020'))
  assert.deepEqual(out(), ['0301000a' + '120601000040'])
  assert.deepEqual(failures, [])
  fsm.handlePacket(1, fromHex('0102000a' + '120601000020'))
  assert.deepEqual(failures, ['mppe-required'])
})

test('pair: server requires 128, client offers 40+128 -> 128 stateless both ways, keys line up', () => {
  const p = ccpPair(undefined, { required: true, keyBits: [40, 128], stateless: 'allowed' })
  assert.equal(p.server.fsm.state, 'Opened')
  assert.equal(p.client.fsm.state, 'Opened')
  assert.deepEqual(p.server.negotiated, { bits: 128, stateless: true })
  assert.deepEqual(p.client.negotiated, { bits: 128, stateless: true })
  assert.ok(p.wire.includes('S>0301000a120601000040'), p.wire.join(' ')) // the server's Nak of 40+128
  const ip = fromHex('0021' + '4500001c00000000400100000a0000010a000002' + '0800f7ff00000000')
  const c = p.client.encryptInto(ip, new Uint8Array(ip.length + 2)).slice()
  assert.deepEqual(p.server.decryptInto(p.now, c, new Uint8Array(c.length)), ip)
  const s = p.server.encryptInto(ip, new Uint8Array(ip.length + 2)).slice()
  assert.deepEqual(p.client.decryptInto(p.now, s, new Uint8Array(s.length)), ip)
  assert.equal(p.server.pollFailure(), undefined)
})

test('pair: 40-bit only when both are configured for it; stateful when the client refuses stateless', () => {
  const weak: MppePolicy = { required: true, keyBits: [40], stateless: 'allowed' }
  assert.deepEqual(ccpPair(weak, weak).server.negotiated, { bits: 40, stateless: true })
  const p = ccpPair({ required: true, keyBits: [128], stateless: 'allowed' }, { required: true, keyBits: [128], stateless: 'refused' })
  assert.deepEqual(p.server.negotiated, { bits: 128, stateless: false })
  assert.deepEqual(p.client.negotiated, { bits: 128, stateless: false })
})

test('pair: a client without MPPE (Rejects option 18) -> the gateway ends the link with mppe-required', () => {
  const p = ccpPair(undefined, { required: false, keyBits: [], stateless: 'allowed' })
  assert.deepEqual(p.server.pollFailure(), { reason: 'mppe-required' })
  assert.equal(p.server.pollFailure(), undefined, 'reported once')
  assert.equal(p.server.encrypting, false)
  assert.equal(p.server.blocksPlaintext, true)
})

test('pair: a client that insists on 40-bit -> mppe-required on the gateway', () => {
  const p = ccpPair(undefined, { required: true, keyBits: [40], stateless: 'allowed' })
  assert.equal(p.server.pollFailure()?.reason, 'mppe-required')
})

test('optional MPPE: both sides without it open CCP with no encryption and no failure', () => {
  const none: MppePolicy = { required: false, keyBits: [], stateless: 'allowed' }
  const p = ccpPair(none, none)
  assert.equal(p.server.fsm.state, 'Opened')
  assert.equal(p.server.negotiated, undefined)
  assert.equal(p.server.pollFailure(), undefined)
  assert.equal(p.server.blocksPlaintext, false)
})

test('Protocol-Reject of CCP or no MPPE keys from authentication -> mppe-required', () => {
  const a = new CcpLayer({ role: 'server' })
  a.start(0, MASTER)
  a.protocolRejected(1)
  assert.equal(a.pollFailure()?.reason, 'mppe-required')
  const b = new CcpLayer({ role: 'server' })
  b.start(0, undefined) // e.g. PAP: nothing to key MPPE from
  assert.equal(b.pollFailure()?.reason, 'mppe-required')
  assert.equal(b.fsm.state, 'Initial')
})

test('Reset-Request is answered by a Reset-Ack with its Identifier; stray Acks and early Resets are counted', () => {
  const early = new CcpLayer({ role: 'server' })
  early.start(0, MASTER)
  early.pollPacket()
  early.handleCcp(1, fromHex('0e070004'))
  assert.equal(early.counters.get('drop.reset-not-opened'), 1)
  const p = ccpPair()
  p.server.handleCcp(p.now, fromHex('0e2a0004'))
  assert.equal(toHex(p.server.pollPacket()!), '0f2a0004')
  p.server.handleCcp(p.now, fromHex('0f2a0004'))
  assert.equal(p.server.counters.get('drop.reset-ack-unexpected'), 1)
  p.server.handleCcp(p.now, fromHex('0e2a00'))
  assert.equal(p.server.counters.get('drop.malformed-reset'), 1)
})

test('stop() wipes the MPPE state: encryptInto throws afterwards', () => {
  const p = ccpPair()
  assert.equal(p.server.encrypting, true)
  p.server.stop(p.now)
  assert.equal(p.server.encrypting, false)
  assert.throws(() => p.server.encryptInto(fromHex('0021'), new Uint8Array(4)), RangeError)
})

test('a peer that asks for stateful is Naked toward stateless once, then followed (and our request follows too)', () => {
  const { fsm, out } = strategy()
  out()
  fsm.handlePacket(1, fromHex('0101000a' + '120600000040'))
  assert.deepEqual(out(), ['0301000a' + '120601000040'])
  fsm.handlePacket(1, fromHex('0102000a' + '120600000040'))
  assert.deepEqual(out(), ['0202000a' + '120600000040'])
  fsm.handleTimeout(10_000) // our Configure-Request is resent without H
  assert.deepEqual(out().map((h) => h.slice(8)), ['120600000040'])
})

test('opened with H one way and not the other: the strategy asks to renegotiate with the peer\'s mode', () => {
  let renegotiated = 0
  const ups: unknown[] = []
  const s = new CcpStrategy(DEFAULT_MPPE_POLICY, { up: (_t, m) => ups.push(m), down: () => {}, finished: () => {}, failed: () => assert.fail('no failure expected'), renegotiate: () => { renegotiated++ } }, () => 0)
  const fsm = new Fsm(s)
  fsm.up(0); fsm.open(0)
  const id = fsm.pollPacket()![1]!
  fsm.handlePacket(1, fromHex(`02${id.toString(16).padStart(2, '0')}000a120601000040`)) // our H|S Acked
  fsm.handlePacket(1, fromHex('0105000a' + '120600000040'))
  fsm.handlePacket(1, fromHex('0106000a' + '120600000040'))
  assert.equal(fsm.state, 'Opened')
  assert.equal(renegotiated, 1)
  assert.deepEqual(ups, [])
  assert.deepEqual(s.buildRequest().map((o) => toHex(o.data)), ['00000040'])
})

test('property: random CCP packets and random MPPE data into an opened layer never throw', async () => {
  const fc = (await import('fast-check')).default
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 40 })), { maxLength: 30 }), (inputs) => {
    const p = ccpPair()
    for (const [asCcp, bytes] of inputs) {
      if (asCcp) p.server.handleCcp(p.now, bytes)
      else p.server.decryptInto(p.now, bytes, new Uint8Array(bytes.length))
      while (p.server.pollPacket()) { /* drain */ }
    }
  }), { numRuns: 200 })
})

test('encryptInto in place: plaintext written at its final offset inside the frame buffer', () => {
  const p = ccpPair()
  const ip = fromHex('4500001c00000000400100000a0000010a0000020800f7ff00000000')
  const h = 4 // e.g. FF 03 00 FD
  const frame = new Uint8Array(h + 2 + 2 + ip.length)
  frame.set([0xff, 0x03, 0x00, 0xfd])
  frame.set([0x00, 0x21], h + 2)
  frame.set(ip, h + 4)
  const plain = frame.subarray(h + 2)
  const reference = p.client.encryptInto(fromHex('0021' + toHex(ip)), new Uint8Array(ip.length + 4)).slice()
  const q = ccpPair()
  const c = q.client.encryptInto(plain, frame.subarray(h))
  assert.equal(c.length, ip.length + 4)
  assert.deepEqual(frame.subarray(h), reference, 'same bytes as an out-of-place encryption under the same keys')
  assert.deepEqual(q.server.decryptInto(q.now, frame.subarray(h), new Uint8Array(c.length)), fromHex('0021' + toHex(ip)))
})

test('the peer terminating CCP while MPPE is required ends the link (tlf after Terminate-Ack wait)', () => {
  const p = ccpPair()
  assert.equal(p.server.encrypting, true)
  p.server.handleCcp(p.now, fromHex('05090004'))
  assert.equal(toHex(p.server.pollPacket()!), '06090004')
  assert.equal(p.server.encrypting, false)
  assert.equal(p.server.pollFailure(), undefined)
  p.server.handleTimeout(p.server.nextTimeout()!)
  assert.equal(p.server.pollFailure()?.reason, 'mppe-required')
})

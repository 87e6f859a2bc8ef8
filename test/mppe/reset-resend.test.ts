// Stateful MPPE: a lost Reset-Request is repeated while packets keep arriving in the discard state,
// at most every RESET_RESEND_MS (RFC 3078 §8.2; pppd repeats only on its 1 s timer). A resync guess
// counts only when it decrypts to an IP header.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex } from '../../src/lib/bytes.js'
import { MppeEncryptor } from '../../src/ppp/mppe/encryptor.js'
import { MppeDecryptor, RESET_RESEND_MS } from '../../src/ppp/mppe/decryptor.js'
import { ccpPair } from '../ppp-ccp/harness.js'

const START = fromHex('8B7CDC149B993A1BA118CB153F56DCCB')
const keys = { bits: 128 as const, stateless: false, startKey: START }
const ip = (i: number, proto = 0x21): Uint8Array => { const b = new Uint8Array(24); b[1] = proto; b[2] = 0x45; b[20] = i >>> 8; b[21] = i & 0xff; return b }
function mk(): { e: MppeEncryptor; d: MppeDecryptor; send: (i: number, proto?: number) => Uint8Array; recv: (c: Uint8Array) => Uint8Array | undefined } {
  const e = new MppeEncryptor(keys)
  const d = new MppeDecryptor(keys)
  return {
    e, d,
    send: (i, proto) => e.encryptInto(ip(i, proto), new Uint8Array(26)).slice(),
    recv: (c) => { const o = new Uint8Array(c.length); const n = d.decryptInto(c, o); return n < 0 ? undefined : o.subarray(0, n) },
  }
}

test('decryptor: a further Reset-Request when packets keep arriving while discarding, at most every 100 ms', () => {
  assert.equal(RESET_RESEND_MS, 100)
  const { e, d, send, recv } = mk()
  let now = 5000
  assert.deepEqual(recv(send(0)), ip(0))
  send(1) // lost
  assert.equal(recv(send(2)), undefined)
  assert.equal(d.pollResetRequest(now), true, 'on entering the discard state')
  // The Request is lost: packets keep coming without the flushed bit.
  now += 50
  assert.equal(recv(send(3)), undefined)
  assert.equal(d.pollResetRequest(now), false, '50 ms: too soon')
  now += 49
  assert.equal(recv(send(4)), undefined)
  assert.equal(d.pollResetRequest(now), false, '99 ms: too soon')
  now += 1
  assert.equal(recv(send(5)), undefined)
  assert.equal(d.pollResetRequest(now), true, '100 ms after the first, a packet arrived: ask again')
  assert.equal(d.pollResetRequest(now), false, 'once')
  now += 500
  assert.equal(d.pollResetRequest(now), false, 'no packet since: nothing to resend (the layer timer covers silence)')
  assert.equal(recv(send(6)), undefined)
  assert.equal(d.pollResetRequest(now), true)
  // This one arrives: the sender flushes, the receiver resynchronises and stops asking.
  e.resetRequested()
  assert.deepEqual(recv(send(7)), ip(7))
  assert.equal(d.discarding, false)
  now += 1000
  assert.deepEqual(recv(send(8)), ip(8))
  assert.equal(d.pollResetRequest(now), false)
  assert.equal(d.counters.get('reset-resend'), 2)
})

test('decryptor: without a time (older callers) only the entry Request is given', () => {
  const { d, send, recv } = mk()
  recv(send(0)); send(1)
  assert.equal(recv(send(2)), undefined)
  assert.equal(d.pollResetRequest(), true)
  for (let i = 3; i < 10; i++) { assert.equal(recv(send(i)), undefined); assert.equal(d.pollResetRequest(), false) }
})

test('layer: a lost Reset-Request is repeated by the next packet 100 ms later, not after 1 s', () => {
  const policy = { required: true, keyBits: [128 as const], stateless: 'refused' as const }
  const p = ccpPair(policy, policy)
  const pkt = (i: number): Uint8Array => p.client.encryptInto(ip(i), new Uint8Array(26)).slice()
  const rx = (c: Uint8Array): Uint8Array | undefined => p.server.decryptInto(p.now, c, new Uint8Array(c.length))
  assert.deepEqual(rx(pkt(0)), ip(0))
  pkt(1) // lost
  assert.equal(rx(pkt(2)), undefined)
  assert.equal(p.server.pollPacket()![0], 14) // Reset-Request #1, lost on the way
  let i = 3
  for (let t = 10; t < 100; t += 10) { p.now += 10; assert.equal(rx(pkt(i++)), undefined); assert.equal(p.server.pollPacket(), undefined, `${t} ms`) }
  p.now += 10
  assert.equal(rx(pkt(i++)), undefined)
  const rr = p.server.pollPacket()!
  assert.equal(rr[0], 14, 'Reset-Request #2 at 100 ms')
  p.client.handleCcp(p.now, rr)
  p.server.handleCcp(p.now, p.client.pollPacket()!) // Reset-Ack
  assert.deepEqual(rx(pkt(i)), ip(i), 'the flushed answer resynchronises')
  assert.equal(p.server.snapshot()['ccp.reset-request-sent'], 2)
})

test('resync: a guessed key must decrypt to an IP header; a non-IP flushed packet waits for the next IP one', () => {
  const { e, d, send, recv } = mk()
  assert.deepEqual(recv(send(0)), ip(0))
  send(1) // lost
  assert.equal(recv(send(2)), undefined)
  e.resetRequested()
  assert.equal(recv(send(3, 0x23)), undefined, 'flushed, but Protocol 0x0023 cannot confirm the key')
  assert.equal(d.counters.get('drop.resync-failed'), 1)
  assert.equal(d.discarding, true)
  e.resetRequested()
  assert.deepEqual(recv(send(4)), ip(4), 'the next flushed IPv4 packet: two key changes, found by the extra tries')
  assert.equal(d.keyChanges, e.keyChanges)
  assert.deepEqual(recv(send(5, 0x23)), ip(5, 0x23), 'in sync, other network protocols decrypt as before')
})

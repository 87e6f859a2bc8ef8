// Stateful MPPE receiver, packet by packet (RFC 3078 §7.2, §8.2): gap -> discard + one Reset-Request,
// flushed packet -> resynchronised; missed flag packets and lost flushed packets are accounted for.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex } from '../../src/lib/bytes.js'
import { MppeEncryptor } from '../../src/ppp/mppe/encryptor.js'
import { MppeDecryptor } from '../../src/ppp/mppe/decryptor.js'
import { ccpPair } from '../ppp-ccp/harness.js'

const START = fromHex('8B7CDC149B993A1BA118CB153F56DCCB')
const keys = { bits: 128 as const, stateless: false, startKey: START }
const ip = (i: number): Uint8Array => { const b = new Uint8Array(24); b[1] = 0x21; b[2] = 0x45; b[20] = i >>> 8; b[21] = i & 0xff; return b }
function mk(): { e: MppeEncryptor; d: MppeDecryptor; send: (i: number) => Uint8Array; recv: (c: Uint8Array) => Uint8Array | undefined } {
  const e = new MppeEncryptor(keys)
  const d = new MppeDecryptor(keys)
  return {
    e, d,
    send: (i) => e.encryptInto(ip(i), new Uint8Array(26)).slice(),
    recv: (c) => { const o = new Uint8Array(c.length); const n = d.decryptInto(c, o); return n < 0 ? undefined : o.subarray(0, n) },
  }
}

test('gap: discard with one Reset-Request, drop until the flushed packet, then in sync again', () => {
  const { e, d, send, recv } = mk()
  assert.deepEqual(recv(send(0)), ip(0))
  send(1) // lost
  assert.equal(recv(send(2)), undefined)
  assert.equal(d.discarding, true)
  assert.equal(d.pollResetRequest(), true)
  assert.equal(d.pollResetRequest(), false, 'one request per loss event')
  assert.equal(recv(send(3)), undefined)
  e.resetRequested()
  const f = send(4)
  assert.equal(f[0]! & 0x80, 0x80)
  assert.deepEqual(recv(f), ip(4))
  assert.equal(d.discarding, false)
  assert.deepEqual(recv(send(5)), ip(5))
  assert.equal(d.counters.get('drop.discarding'), 1)
  assert.equal(d.keyChanges, e.keyChanges)
})

test('loss across flag packets: the receiver makes the key changes it missed (one per count ending in 0xFF)', () => {
  const { e, d, send, recv } = mk()
  for (let i = 0; i < 250; i++) assert.deepEqual(recv(send(i)), ip(i))
  for (let i = 250; i < 800; i++) send(i) // 0x0FF, 0x1FF and 0x2FF lost
  e.resetRequested()
  assert.deepEqual(recv(send(800)), ip(800))
  assert.equal(e.keyChanges, 4)
  assert.equal(d.keyChanges, 4)
  assert.deepEqual(recv(send(801)), ip(801))
})

test('a flag packet after a gap resynchronises at once, without a Reset-Request', () => {
  const { d, send, recv } = mk()
  assert.deepEqual(recv(send(0)), ip(0))
  for (let i = 1; i < 255; i++) send(i)
  assert.deepEqual(recv(send(255)), ip(255))
  assert.equal(d.pollResetRequest(), false)
})

test('flushed answers to earlier Reset-Requests that were lost: the receiver tries the extra key changes', () => {
  const { e, d, send, recv } = mk()
  assert.deepEqual(recv(send(0)), ip(0))
  send(1)
  assert.equal(recv(send(2)), undefined)
  e.resetRequested(); send(3) // flushed, lost
  e.resetRequested(); send(4) // flushed, lost
  e.resetRequested()
  assert.deepEqual(recv(send(5)), ip(5))
  assert.equal(d.keyChanges, 3)
  assert.deepEqual(recv(send(6)), ip(6))
})

test('a flag packet without the flushed bit, and late or duplicate packets, are dropped', () => {
  const { send, recv, d } = mk()
  for (let i = 0; i < 255; i++) recv(send(i))
  const flag = send(255)
  flag[0] = flag[0]! & 0x7f
  assert.equal(recv(flag), undefined)
  assert.equal(d.counters.get('drop.flag-not-flushed'), 1)
  const m = mk()
  const c0 = m.send(0)
  assert.deepEqual(m.recv(c0), ip(0))
  assert.equal(m.recv(c0), undefined)
  assert.equal(m.d.counters.get('drop.late-or-duplicate'), 1)
})

test('stateless: a forward jump of 1000 counts is followed; one beyond the window is dropped', () => {
  const k = { bits: 128 as const, stateless: true, startKey: START }
  const e = new MppeEncryptor(k)
  const d = new MppeDecryptor(k)
  for (let i = 0; i < 1000; i++) e.encryptInto(ip(i), new Uint8Array(26))
  const c = e.encryptInto(ip(1000), new Uint8Array(26)).slice()
  const o = new Uint8Array(26)
  assert.equal(d.decryptInto(c, o), 24)
  assert.deepEqual(o.subarray(0, 24), ip(1000))
  for (let i = 0; i < 1500; i++) e.encryptInto(ip(i), new Uint8Array(26))
  assert.equal(d.decryptInto(e.encryptInto(ip(1), new Uint8Array(26)), o), -1)
  assert.equal(d.counters.get('drop.too-late'), 1)
})

test('layer: Reset-Request goes out as CCP code 14, repeats on its timer while discarding, stops once in sync', () => {
  const p = ccpPair({ required: true, keyBits: [128], stateless: 'refused' }, { required: true, keyBits: [128], stateless: 'refused' })
  const pkt = (i: number): Uint8Array => p.client.encryptInto(ip(i), new Uint8Array(26)).slice()
  const rx = (c: Uint8Array): Uint8Array | undefined => p.server.decryptInto(p.now, c, new Uint8Array(c.length))
  assert.deepEqual(rx(pkt(0)), ip(0))
  pkt(1)
  assert.equal(rx(pkt(2)), undefined)
  const rr = p.server.pollPacket()!
  assert.deepEqual([rr[0], rr.length], [14, 4])
  assert.equal(p.server.nextTimeout(), p.now + 1000)
  p.now += 1000
  p.server.handleTimeout(p.now)
  const rr2 = p.server.pollPacket()!
  assert.equal(rr2[0], 14)
  assert.notEqual(rr2[1], rr[1], 'a fresh Identifier')
  p.client.handleCcp(p.now, rr2)
  const ack = p.client.pollPacket()!
  assert.deepEqual([ack[0], ack[1]], [15, rr2[1]])
  p.server.handleCcp(p.now, ack)
  assert.deepEqual(rx(pkt(3)), ip(3))
  p.now += 1000
  p.server.handleTimeout(p.now)
  assert.equal(p.server.pollPacket(), undefined, 'no repeat once in sync')
  assert.equal(p.server.snapshot()['ccp.reset-request-sent'], 2)
})

test('a forged packet (random ciphertext, plausible header) does not move the key sequence', () => {
  for (const stateless of [true, false]) {
    const k = { bits: 128 as const, stateless, startKey: START }
    const e = new MppeEncryptor(k)
    const d = new MppeDecryptor(k)
    const o = new Uint8Array(64)
    const good = (i: number): Uint8Array => e.encryptInto(ip(i), new Uint8Array(26)).slice()
    assert.equal(d.decryptInto(good(0), o), 24)
    // Far ahead and flushed: stateless would otherwise step 900 keys, stateful 4+ keys.
    const forged = new Uint8Array(26)
    forged.set([0x90 | (900 >>> 8), 900 & 0xff]); forged.fill(0x5a, 2); forged[2] = 0x17
    const before = d.keyChanges
    assert.equal(d.decryptInto(forged, o), -1)
    assert.equal(d.keyChanges, before, `stateless=${stateless}: no key change kept`)
    if (!stateless) { e.resetRequested(); d.pollResetRequest() }
    assert.equal(d.decryptInto(good(1), o), 24, `stateless=${stateless}: the next real packet still decrypts`)
    assert.deepEqual(o.subarray(0, 24), ip(1))
  }
})

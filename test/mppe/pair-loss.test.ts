// Stateful and stateless MPPE between two CcpLayers over a lossy, reordering, duplicating channel:
// stateless needs nothing (RFC 3078 §7.1, §8.1); stateful resynchronises via CCP Reset-Request and
// flushed packets (§8.2, RFC 1962 §2.1). Every packet accepted must equal what was sent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MppePolicy } from '../../src/ppp/ccp/policy.js'
import { CcpCode } from '../../src/ppp/ccp/options.js'
import { ccpPair } from '../ppp-ccp/harness.js'

/** xorshift32, so each run sees the same losses. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x1_0000_0000 }
}
function datagram(i: number): Uint8Array {
  const b = new Uint8Array(60)
  b[1] = 0x21; b[2] = 0x45
  new DataView(b.buffer).setUint32(4, i)
  for (let k = 8; k < b.length; k++) b[k] = (i * 31 + k) & 0xff
  return b
}
const idOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset).getUint32(4)

interface Outcome { accepted: number[]; resets: number; resync: number; tailOk: boolean; drops: Record<string, number> }

/**
 * Client sends `n` datagrams to the server; the channel drops, duplicates and delays (reorders) them
 * until `cleanAfter`, then is clean. Server->client CCP packets (Reset-Requests) arrive two data
 * packets late and are themselves lost 20% of the time while the noise lasts; 100 ms pass per packet (Reset retransmission).
 */
function run(policy: MppePolicy, seed: number, n = 3000, cleanAfter = 2700, loss = 0.05): Outcome {
  const p = ccpPair(policy, policy)
  assert.equal(p.server.fsm.state, 'Opened')
  const rnd = prng(seed)
  const sent: Uint8Array[] = []
  const accepted: number[] = []
  const held: { due: number; pkt: Uint8Array }[] = []
  const ccpToClient: { due: number; pkt: Uint8Array }[] = []
  let resets = 0
  const deliver = (pkt: Uint8Array): void => {
    const plain = p.server.decryptInto(p.now, pkt, new Uint8Array(pkt.length))
    if (plain) {
      const id = idOf(plain)
      assert.deepEqual(plain, sent[id], `accepted packet ${id} must be exactly what was sent`)
      accepted.push(id)
    }
    for (let c = p.server.pollPacket(); c; c = p.server.pollPacket()) {
      if (c[0] === CcpCode.ResetRequest) resets++
      if (sent.length > cleanAfter || rnd() >= 0.2) ccpToClient.push({ due: sent.length + 2, pkt: c })
    }
  }
  for (let i = 0; i < n; i++) {
    p.now += 100
    p.server.handleTimeout(p.now)
    for (const c of ccpToClient.filter((x) => x.due <= i)) {
      p.client.handleCcp(p.now, c.pkt)
      for (let r = p.client.pollPacket(); r; r = p.client.pollPacket()) p.server.handleCcp(p.now, r) // Reset-Ack
    }
    ccpToClient.splice(0, ccpToClient.length, ...ccpToClient.filter((x) => x.due > i))
    const d = datagram(i)
    sent.push(d)
    const pkt = p.client.encryptInto(d, new Uint8Array(d.length + 2)).slice()
    const noisy = i < cleanAfter
    const r = rnd()
    if (noisy && r < loss) { /* lost */ } else if (noisy && r < loss + 0.03) { deliver(pkt); deliver(pkt) } else if (noisy && r < loss + 0.06) { held.push({ due: i + 1 + Math.floor(rnd() * 3), pkt }) } else deliver(pkt)
    for (const h of held.filter((x) => x.due <= i)) deliver(h.pkt)
    held.splice(0, held.length, ...held.filter((x) => x.due > i))
  }
  const s = p.server.snapshot()
  const tail = accepted.filter((id) => id >= cleanAfter + 40)
  return { accepted, resets, resync: s['mppe.resync'] ?? 0, tailOk: tail.length === n - cleanAfter - 40, drops: s }
}

test('stateless MPPE over loss, duplication and reordering: no Reset-Request, every surviving packet decrypts', () => {
  const o = run({ required: true, keyBits: [128], stateless: 'required' }, 0x5eed)
  assert.equal(o.resets, 0)
  assert.equal(new Set(o.accepted).size, o.accepted.length, 'no duplicate accepted')
  // Everything not lost arrives: at most the lost share (about 5%) is missing.
  assert.ok(o.accepted.length > 3000 * 0.93, `accepted ${o.accepted.length}`)
  assert.ok((o.drops['mppe.reordered'] ?? 0) > 0, 'late packets were decrypted from the key window')
  assert.ok((o.drops['mppe.drop.duplicate'] ?? 0) > 0)
  assert.ok(o.tailOk)
})

test('stateful MPPE over loss, duplication and reordering resynchronises via Reset-Request and flushed packets', () => {
  for (const seed of [0x5eed, 0xbeef, 0x1234]) {
    const o = run({ required: true, keyBits: [128], stateless: 'refused' }, seed)
    assert.ok(o.resets > 10, `seed ${seed}: Reset-Requests ${o.resets}`)
    assert.ok(o.resync > 10, `seed ${seed}: resyncs ${o.resync}`)
    assert.equal(new Set(o.accepted).size, o.accepted.length, 'no duplicate accepted')
    assert.ok(o.tailOk, `seed ${seed}: every packet after the noise stopped is accepted`)
        // Stateful loses more than the channel: every gap costs the packets until a flushed one (about
    // 3 here, 10 more when the Reset-Request is lost), so roughly half survive at 11% disturbance.
    assert.ok(o.accepted.length > 3000 * 0.5, `seed ${seed}: accepted ${o.accepted.length}`)
    assert.equal(o.drops['mppe.drop.resync-failed'], undefined, 'the key count never went astray')
    assert.equal(o.drops['mppe.drop.bad-protocol'], undefined)
  }
})

test('stateful 40-bit over a lossy channel also recovers (key reduction on every change)', () => {
  const o = run({ required: true, keyBits: [40], stateless: 'refused' }, 0x7777, 1500, 1300)
  assert.ok(o.resets > 0)
  assert.ok(o.tailOk)
})

// Pair tests for what SoftEther VPN Server 5.01 does as an IKEv1 responder (seen in
// test/interop/gatehouse-vs-softether.sh): it identifies itself as ID_IPV4_ADDR 0.0.0.0 and hashes 0.0.0.0 into its
// own NAT-D and a random value into the one for us (RFC 3947 §3.2), so a client with no NAT in the way sees NAT on
// both sides and floats to 4500 (SoftEther forces NAT-T on every client); and it
// may start its own quick mode (RFC 2409 §5.5: either end of an ISAKMP SA may) right after main mode. Our responder
// with local address 0.0.0.0 reproduces the first; createChildSa on the responder the second. Plus the debug key log.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/lib/bytes.js'
import type { IkeKeyLogEntry } from '../../src/ike/v1/endpoint.js'
import { hostSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { IdType } from '../../src/ike/v1/constants.js'
import { EncapsulationMode } from '../../src/ike/v1/oakley.js'
import { I_ADDR, R_ADDR, childOf, pair } from './v1-harness.js'

const softEtherLike = { rExtra: { local: { address: '0.0.0.0', port: 500 } } }

test('a responder calling itself 0.0.0.0: main mode completes, its ID is 0.0.0.0, NAT-D shows the peer behind a NAT, IKE floats to 4500, transport child is UDP-encapsulated', () => {
  const p = pair(softEtherLike)
  p.connect()
  p.settle()
  const up = p.events.i.find((e) => e.type === 'ikeUp')
  assert.ok(up && up.type === 'ikeUp', JSON.stringify(p.events.i))
  assert.deepEqual({ idType: up.peerId.idType, data: toHex(up.peerId.data) }, { idType: IdType.Ipv4Addr, data: '00000000' })
  // RFC 3947 §3.2: our own hash matched (we are not behind a NAT); none of the peer's matched its source address.
  assert.deepEqual({ local: up.natT?.localBehindNat, peer: up.natT?.peerBehindNat }, { local: false, peer: true })
  assert.ok(p.events.i.some((e) => e.type === 'natFloat'))
  // §4: main mode 5 on is sent to port 4500.
  const mm5 = p.log.filter((d) => d.from === 'i')[2]!
  assert.equal(mm5.to.port, 4500)
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  // §5.1: UDP-Encapsulated-Transport (RFC dialect, 4) on both ends, keys mirrored.
  assert.equal(ci.encapsulation, EncapsulationMode.UdpTransport)
  assert.equal(ci.natT, true)
  assert.equal(ci.inbound.spi, cr.outbound.spi)
  assert.equal(toHex(ci.inbound.keymat), toHex(cr.outbound.keymat))
  assert.equal(toHex(ci.outbound.keymat), toHex(cr.inbound.keymat))
})

/** Overwrites the first NAT-D payload (type 20) of a plain ISAKMP message in place (RFC 2408 §3.2 chain walk). */
function scrambleFirstNatD(msg: Uint8Array): boolean {
  let next = msg[16]!, off = 28
  while (next !== 0 && off + 4 <= msg.length) {
    const len = (msg[off + 2]! << 8) | msg[off + 3]!
    if (next === 20) { for (let k = off + 4; k < off + len; k++) msg[k] = msg[k]! ^ 0x5a; return true }
    next = msg[off]!
    off += len
  }
  return false
}

test('SoftEther\'s NAT-D for us is random ("Randomize in order to be forced to use NAT", its Proto_IKE.c) on top of 0.0.0.0: both ends look NATed, main mode and a UDP-encapsulated transport child still complete', () => {
  const p = pair(softEtherLike)
  p.connect()
  // Main mode 4 is plain and NAT-D is outside HASH_R (RFC 3947 §3.2), so rewriting it in flight is what SoftEther's
  // random hash looks like to us.
  let scrambled = false
  p.settle((n, from) => { if (n === 3 && from === 'r') scrambled = scrambleFirstNatD(p.log[3]!.data); return 'ok' })
  assert.ok(scrambled)
  const up = p.events.i.find((e) => e.type === 'ikeUp')
  assert.ok(up && up.type === 'ikeUp')
  assert.deepEqual({ local: up.natT?.localBehindNat, peer: up.natT?.peerBehindNat }, { local: true, peer: true })
  const [ci, cr] = [childOf(p.events.i)[0], childOf(p.events.r)[0]]
  assert.ok(ci && cr)
  assert.equal(ci.encapsulation, EncapsulationMode.UdpTransport)
  assert.equal(toHex(ci.outbound.keymat), toHex(cr.inbound.keymat))
})

test('the responder starts its own quick mode right after main mode 6, crossing ours: both complete, four mirrored SAs, IKE stays up', () => {
  const p = pair(softEtherLike)
  p.connect()
  // The responder's quick mode 1 leaves right behind its main mode 6 (datagram 5), before our quick mode 1 arrives.
  let started: number | undefined
  const fate = (n: number, from: 'i' | 'r'): 'ok' => {
    if (n === 5 && from === 'r' && started === undefined) {
      const sa = toHex(p.log[5]!.data.subarray(0, 8))
      const sel = { local: hostSelector(addressBytes(R_ADDR), 17, 1701), remote: hostSelector(addressBytes(I_ADDR), 17, 1701) }
      started = p.r.createChildSa(p.clock.now, sa, { mode: 'transport', selectors: sel })
      assert.notEqual(started, undefined, 'the responder is established once it sent main mode 6')
    }
    return 'ok'
  }
  p.settle(fate)
  const ci = childOf(p.events.i), cr = childOf(p.events.r)
  assert.equal(ci.length, 2, JSON.stringify(p.events.i.map((e) => e.type)))
  assert.equal(cr.length, 2, JSON.stringify(p.events.r.map((e) => e.type)))
  for (const c of ci) {
    const m = cr.find((x) => x.outbound.spi === c.inbound.spi)
    assert.ok(m, `no responder child sends to our SPI ${c.inbound.spi}`)
    assert.equal(m.inbound.spi, c.outbound.spi)
    assert.equal(toHex(m.outbound.keymat), toHex(c.inbound.keymat))
    assert.equal(c.mode, 'transport')
    assert.equal(c.natT, true)
  }
  // The peer's child carries its selectors seen from our side: us UDP/1701, it UDP/1701.
  const theirs = ci.find((c) => c.selectors && toHex(c.selectors.local.data) === toHex(addressBytes(I_ADDR)) && c.selectors.remote.port === 1701)
  assert.ok(theirs)
  assert.equal(p.events.i.some((e) => e.type === 'closed' || e.type === 'childSaFailed'), false)
  assert.equal(p.i.saCount, 1)
})

test('debug key log: both ends report the same cookies and phase 1 key once main mode is up (never without the option)', () => {
  const got: { i: IkeKeyLogEntry[]; r: IkeKeyLogEntry[] } = { i: [], r: [] }
  const p = pair({ ...softEtherLike, iExtra: { keyLog: (k) => got.i.push(k) }, rExtra: { ...softEtherLike.rExtra, keyLog: (k) => got.r.push(k) } })
  const name = p.connect()
  p.settle()
  assert.equal(got.i.length, 1)
  assert.equal(got.r.length, 1)
  const [a, b] = [got.i[0]!, got.r[0]!]
  assert.equal(toHex(a.ckyI), name)
  assert.equal(toHex(a.ckyR), toHex(b.ckyR))
  // The default suite is AES-CBC-256: a 32-byte key (RFC 2409 App. B), derived independently by each end.
  assert.equal(a.encryptionKey.length, 32)
  assert.equal(toHex(a.encryptionKey), toHex(b.encryptionKey))
  assert.equal(a.cipher, b.cipher)
  // Copies: the SA zeroing its keys at close leaves the logged values alone (and vice versa).
  p.i.deleteIkeSa(p.clock.now, name)
  assert.notEqual(toHex(a.encryptionKey), '00'.repeat(32))
  const q = pair(softEtherLike)
  q.connect()
  q.settle()
  assert.equal(childOf(q.events.i).length, 1)
})

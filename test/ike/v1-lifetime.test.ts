// IKEv1 ISAKMP SA lifetime between two IkeV1Endpoints with a manual clock: the initiator re-establishes
// main mode before expiry and the new ISAKMP SA takes over the children; a responder whose (shorter)
// lifetime runs out deletes only the ISAKMP SA, the children stay (RFC 2408: phase 2 SAs are independent)
// and are rekeyed later through a new ISAKMP SA; with NAT-T.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { utf8 } from '../../src/lib/bytes.js'
import { splitEspKeyMaterial } from '../../src/esp/algorithms.js'
import { EspOutboundSa } from '../../src/esp/sa-outbound.js'
import { EspInboundSa } from '../../src/esp/sa-inbound.js'
import { fixedRng } from '../helpers/clock.js'
import { childOf, pair } from './v1-harness.js'
import type { ChildUp, Fate } from './v1-harness.js'

type Pair = ReturnType<typeof pair>
type Ev = Pair['events']['i'][number]
function runUntil(p: Pair, until: number, fate?: Fate): void {
  p.pump(fate)
  for (let k = 0; k < 200_000; k++) {
    const d = [p.i.nextTimeout(), p.r.nextTimeout()].filter((x): x is number => x !== undefined)
    const next = Math.max(p.clock.now, d.length > 0 ? Math.min(...d) : Infinity)
    if (next > until) { p.clock.now = until; p.i.handleTimeout(until); p.r.handleTimeout(until); p.pump(fate); return }
    p.clock.now = next
    p.i.handleTimeout(next); p.r.handleTimeout(next)
    p.pump(fate)
  }
  throw new Error('runUntil did not reach its time')
}
const of = <T extends Ev['type']>(evs: readonly Ev[], type: T) => evs.filter((e): e is Extract<Ev, { type: T }> => e.type === type)
function espRoundTrip(a: ChildUp, b: ChildUp): boolean {
  const out = new EspOutboundSa({ spi: a.outbound.spi, encryption: a.encryption, ...(a.integrity ? { integrity: a.integrity } : {}), keys: splitEspKeyMaterial(a.encryption, a.integrity, new Uint8Array(a.outbound.keymat)), rng: fixedRng(5) })
  const inb = new EspInboundSa({ spi: b.inbound.spi, encryption: b.encryption, ...(b.integrity ? { integrity: b.integrity } : {}), keys: splitEspKeyMaterial(b.encryption, b.integrity, new Uint8Array(b.inbound.keymat)) })
  const got = inb.decrypt(out.encrypt(utf8('x'), 4)!)
  return got !== undefined
}
/** ISAKMP exchange type of main mode (RFC 2408 §4.1 Identity Protection), byte 18 of the header. */
const MAIN_MODE = 2

test('the initiator re-establishes its ISAKMP SA before expiry; the new one adopts the children, the old is deleted', () => {
  for (const nat of [false, true]) {
    // Both sides keep ISAKMP SAs 3000 s; children live 3600 s, so the ISAKMP SA ends first.
    const p = pair({ seed: nat ? 501 : 500, nat, extra: { ikeLifetimeSeconds: 3000 } })
    const old = p.connect()
    p.pump()
    const up = p.clock.now
    const [ci1] = childOf(p.events.i), [cr1] = childOf(p.events.r)
    const oldR = of(p.events.r, 'ikeUp')[0]!.sa
    runUntil(p, up + 2_459_000)
    assert.equal(of(p.events.i, 'ikeUp').length, 1, 'nothing before 3000 s - 9 min')
    const mark = p.log.length
    runUntil(p, up + 2_600_000)
    const ups = of(p.events.i, 'ikeUp')
    assert.equal(ups.length, 2, `re-established (nat ${nat})`)
    assert.equal(ups[1]!.rekeyOf, old)
    assert.equal(of(p.events.r, 'ikeUp').length, 2)
    // No INITIAL-CONTACT in the new main mode (the peer would drop the children): the new MM5 is not
    // readable here, but the responder kept its child, which INITIAL-CONTACT would have ended.
    assert.ok(p.log.slice(mark).some((l) => l.data[18] === MAIN_MODE))
    const ci = of(p.events.i, 'closed'), cr = of(p.events.r, 'closed')
    assert.equal(ci.length, 1); assert.equal(cr.length, 1)
    assert.deepEqual({ sa: ci[0]!.sa, reason: ci[0]!.reason, replacedBy: ci[0]!.replacedBy }, { sa: old, reason: 'rekeyed', replacedBy: ups[1]!.sa })
    assert.equal(cr[0]!.sa, oldR)
    assert.equal(cr[0]!.reason, 'deleted by the peer')
    assert.deepEqual(cr[0]!.keptChildren, [cr1!.inbound.spi], 'the responder hands the child to the new ISAKMP SA')
    assert.equal(of(p.events.i, 'childSaDown').length + of(p.events.r, 'childSaDown').length, 0, 'no child went down')
    assert.equal(childOf(p.events.i).length, 1, 'no new quick mode for the re-established SA')
    assert.equal(p.i.saCount, 1); assert.equal(p.r.saCount, 1)
    // Later the child is rekeyed through the new ISAKMP SA, and the old child is deleted through it.
    runUntil(p, up + 3_200_000)
    const ci2 = childOf(p.events.i)[1]!, cr2 = childOf(p.events.r)[1]!
    assert.equal(ci2.sa, ups[1]!.sa)
    assert.equal(ci2.rekeyOf, ci1!.inbound.spi); assert.equal(cr2.rekeyOf, cr1!.inbound.spi)
    assert.equal(ci2.natT, nat)
    assert.ok(espRoundTrip(ci2, cr2) && espRoundTrip(cr2, ci2))
    assert.deepEqual(of(p.events.i, 'childSaDown').map((d) => [d.sa, d.inboundSpi, d.reason]), [[ups[1]!.sa, ci1!.inbound.spi, 'rekeyed']])
    assert.deepEqual(of(p.events.r, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[cr1!.inbound.spi, 'rekeyed']])
  }
})

test('a responder with a shorter ISAKMP lifetime deletes the expired ISAKMP SA alone: children stay, later rekeyed through a new ISAKMP SA', () => {
  const p = pair({ seed: 510, rExtra: { ikeLifetimeSeconds: 1000 } })
  p.connect()
  p.pump()
  const up = p.clock.now
  const [ci1] = childOf(p.events.i), [cr1] = childOf(p.events.r)
  runUntil(p, up + 1_000_000)
  const cr = of(p.events.r, 'closed'), ci = of(p.events.i, 'closed')
  assert.equal(cr.length, 1); assert.equal(cr[0]!.reason, 'ISAKMP SA lifetime expired')
  assert.deepEqual(cr[0]!.keptChildren, [cr1!.inbound.spi])
  assert.equal(ci.length, 1); assert.equal(ci[0]!.reason, 'deleted by the peer')
  assert.deepEqual(ci[0]!.keptChildren, [ci1!.inbound.spi])
  assert.equal(of(p.events.i, 'childSaDown').length + of(p.events.r, 'childSaDown').length, 0)
  assert.equal(p.i.saCount + p.r.saCount, 0, 'no ISAKMP SA left; the children are held for the next one')
  // Without an ISAKMP SA there is no DPD; the child keeps its own lifetime and still works.
  runUntil(p, up + 3_000_000)
  assert.equal(of(p.events.i, 'childSaDown').length, 0)
  // The initiator's rekey time: a new main mode (no INITIAL-CONTACT), whose quick mode replaces the orphan.
  runUntil(p, up + 3_200_000)
  assert.equal(of(p.events.i, 'ikeUp').length, 2)
  const ci2 = childOf(p.events.i)[1]!, cr2 = childOf(p.events.r)[1]!
  assert.equal(ci2.rekeyOf, ci1!.inbound.spi)
  assert.equal(cr2.rekeyOf, cr1!.inbound.spi, 'the responder\'s new ISAKMP SA adopted the orphan and saw the rekey')
  assert.ok(espRoundTrip(ci2, cr2) && espRoundTrip(cr2, ci2))
  assert.deepEqual(of(p.events.i, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[ci1!.inbound.spi, 'rekeyed']])
  assert.deepEqual(of(p.events.r, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[cr1!.inbound.spi, 'rekeyed']])
  assert.equal(p.i.saCount, 1); assert.equal(p.r.saCount, 1)
})

test('an orphaned child nobody rekeys expires at its own lifetime; INITIAL-CONTACT from the peer ends orphans at once', () => {
  // No rekey anywhere (margin 0); the responder's ISAKMP SA expires first.
  const p = pair({ seed: 520, extra: { rekey: { marginMs: 0 } }, rExtra: { ikeLifetimeSeconds: 1000 } })
  p.connect()
  p.pump()
  const up = p.clock.now
  const [cr1] = childOf(p.events.r)
  runUntil(p, up + 3_600_000)
  assert.deepEqual(of(p.events.r, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[cr1!.inbound.spi, 'expired']])
  assert.equal(of(p.events.i, 'childSaDown')[0]?.reason, 'expired')

  const q = pair({ seed: 521, rExtra: { ikeLifetimeSeconds: 1000 } })
  q.connect()
  q.pump()
  const [qr1] = childOf(q.events.r)
  runUntil(q, q.clock.now + 1_000_000)
  assert.equal(q.r.saCount, 0)
  // The client restarts: a fresh endpoint with INITIAL-CONTACT.
  const fresh = pair({ seed: 522 })
  fresh.connect()
  for (let t = fresh.i.pollTransmit(); t; t = fresh.i.pollTransmit()) {
    q.r.handleDatagram(q.clock.now, t.data, { address: '198.18.0.1', port: 500 })
    for (let a = q.r.pollTransmit(); a; a = q.r.pollTransmit()) fresh.i.handleDatagram(q.clock.now, a.data, { address: '198.18.0.2', port: 500 })
  }
  const evs: Ev[] = []
  for (let e = q.r.pollEvent(); e; e = q.r.pollEvent()) evs.push(e)
  assert.deepEqual(of(evs, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[qr1!.inbound.spi, 'replaced: the peer sent INITIAL-CONTACT']])
  assert.equal(of(evs, 'childSaUp').length, 1, 'the restarted client\'s new child')
})

test('a DELETE naming the children still takes them down with the ISAKMP SA (deleteIkeSa)', () => {
  const p = pair({ seed: 530 })
  const name = p.connect()
  p.pump()
  p.i.deleteIkeSa(p.clock.now, name)
  p.pump()
  assert.equal(of(p.events.r, 'childSaDown').length, 1)
  const cr = of(p.events.r, 'closed')[0]!
  assert.equal(cr.keptChildren, undefined)
})

test('the old ISAKMP SA\'s DELETE is lost: the stale copy hands its child to the new SA (by DPD, or when the child\'s DELETE comes through the new SA)', () => {
  for (const dpd of [true, false]) {
    // Without DPD at the responder, its stale copy would live 8 h: the child's DELETE arrives through the new SA.
    const p = pair({ seed: dpd ? 540 : 541, iExtra: { ikeLifetimeSeconds: 3000 }, rExtra: dpd ? {} : { dpd: false } })
    const old = p.connect()
    p.pump()
    const up = p.clock.now
    const [ci1] = childOf(p.events.i), [cr1] = childOf(p.events.r)
    runUntil(p, up + 2_400_000)
    let reauthStarted = false
    // Every informational of the old ISAKMP SA from the initiator is lost once its re-establishment started.
    const fate: Fate = (n, from) => {
      const d = p.log[n]!.data
      if (from === 'i' && d[18] === MAIN_MODE) reauthStarted = true
      return reauthStarted && from === 'i' && d[18] === 5 && Buffer.from(d.subarray(0, 8)).toString('hex') === old ? 'drop' : 'ok'
    }
    runUntil(p, up + 2_700_000, fate)
    assert.equal(of(p.events.i, 'ikeUp').length, 2)
    const stale = of(p.events.r, 'closed')
    if (dpd) {
      // The responder never heard of the old one's end; its DPD finds it silent and hands the child over.
      assert.equal(stale.length, 1)
      assert.equal(stale[0]!.reason, 'the peer stopped answering dead peer detection (RFC 3706)')
      assert.deepEqual(stale[0]!.keptChildren, [cr1!.inbound.spi])
    } else assert.equal(p.r.saCount, 2, 'the stale copy still holds the child')
    assert.equal(of(p.events.r, 'childSaDown').length, 0)
    // The child rekey goes through the new ISAKMP SA; the responder recognises it and takes the DELETE there.
    runUntil(p, up + 3_200_000, fate)
    const cr2 = childOf(p.events.r)[1]!
    assert.equal(cr2.rekeyOf, cr1!.inbound.spi)
    assert.deepEqual(of(p.events.r, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[cr1!.inbound.spi, 'rekeyed']])
    assert.deepEqual(of(p.events.i, 'childSaDown').map((d) => [d.inboundSpi, d.reason]), [[ci1!.inbound.spi, 'rekeyed']])
    assert.equal(p.r.saCount, dpd ? 1 : 2)
  }
})

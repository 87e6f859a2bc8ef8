// IKEv1 child SA rekeying (RFC 2409 §5.5 quick mode again, new SPIs) between two IkeV1Endpoints with a manual
// clock: before the lifetime with margin and jitter, a real ESP packet on the new keys, the old child deleted
// after the overlap, lost quick mode messages, hard expiry without rekey, RESPONDER-LIFETIME, rekeyChild().
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
/** Events from now on with the clock time they were seen at (the harness records events without time). */
function timed(p: Pair): { i: { at: number; e: Ev }[]; r: { at: number; e: Ev }[]; sync: () => void } {
  const out = { i: [] as { at: number; e: Ev }[], r: [] as { at: number; e: Ev }[] }
  let ni = p.events.i.length, nr = p.events.r.length
  const sync = () => {
    for (; ni < p.events.i.length; ni++) out.i.push({ at: p.clock.now, e: p.events.i[ni]! })
    for (; nr < p.events.r.length; nr++) out.r.push({ at: p.clock.now, e: p.events.r[nr]! })
  }
  return { ...out, sync }
}
const down = (evs: readonly Ev[]) => evs.filter((e): e is Extract<Ev, { type: 'childSaDown' }> => e.type === 'childSaDown')
const EXCHANGE = 18
const QUICK_MODE = 32

function espRoundTrip(a: ChildUp, b: ChildUp, text: string): boolean {
  const out = new EspOutboundSa({ spi: a.outbound.spi, encryption: a.encryption, ...(a.integrity ? { integrity: a.integrity } : {}), keys: splitEspKeyMaterial(a.encryption, a.integrity, new Uint8Array(a.outbound.keymat)), rng: fixedRng(5) })
  const inb = new EspInboundSa({ spi: b.inbound.spi, encryption: b.encryption, ...(b.integrity ? { integrity: b.integrity } : {}), keys: splitEspKeyMaterial(b.encryption, b.integrity, new Uint8Array(b.inbound.keymat)) })
  const got = inb.decrypt(out.encrypt(utf8(text), 4)!)
  return got !== undefined && Buffer.from(got.payload).toString() === text
}

test('the initiator rekeys its child before the lifetime (minus margin and jitter): new SPIs, ESP on new keys, old deleted after the overlap', () => {
  const p = pair({ seed: 400 })
  p.connect()
  p.pump()
  const up = p.clock.now
  const [ci1] = childOf(p.events.i), [cr1] = childOf(p.events.r)
  assert.equal(ci1!.lifetimeSeconds, 3600)
  // Nothing before lifetime - margin (3600 s - 9 min): the rekey comes at 3060..3114 s (jitter up to 10 % of the margin).
  runUntil(p, up + 3_059_000)
  assert.equal(childOf(p.events.i).length, 1)
  const t = timed(p)
  t.sync()
  for (let s = 3_060_000; s <= 3_140_000; s += 1000) { runUntil(p, up + s); t.sync() }
  const ups = t.i.filter((x) => x.e.type === 'childSaUp')
  assert.equal(ups.length, 1, 'one rekey')
  const rekeyAt = ups[0]!.at - up
  assert.ok(rekeyAt >= 3_060_000 && rekeyAt <= 3_114_000, `rekey at ${rekeyAt}`)
  const ci2 = ups[0]!.e as ChildUp, cr2 = childOf(p.events.r)[1]!
  assert.equal(ci2.rekeyOf, ci1!.inbound.spi)
  assert.equal(cr2.rekeyOf, cr1!.inbound.spi, 'the responder recognises the rekey by mode and selectors')
  assert.notEqual(ci2.inbound.spi, ci1!.inbound.spi); assert.notEqual(ci2.outbound.spi, ci1!.outbound.spi)
  assert.equal(ci2.outbound.spi, cr2.inbound.spi); assert.equal(ci2.inbound.spi, cr2.outbound.spi)
  assert.deepEqual(ci2.selectors, ci1!.selectors)
  assert.notDeepEqual(ci2.outbound.keymat, ci1!.outbound.keymat)
  assert.ok(espRoundTrip(ci2, cr2, 'initiator to responder on the new SA'))
  assert.ok(espRoundTrip(cr2, ci2, 'responder to initiator on the new SA'))
  assert.ok(!espRoundTrip(ci2, cr1!, 'new keys do not open with the old SA'))
  // The old child goes 10 s (the overlap) after the new one is up, on both sides, reason 'rekeyed'.
  const di = t.i.filter((x) => x.e.type === 'childSaDown'), dr = t.r.filter((x) => x.e.type === 'childSaDown')
  assert.equal(di.length, 1); assert.equal(dr.length, 1)
  assert.equal(di[0]!.at - ups[0]!.at, 10_000)
  assert.deepEqual(di[0]!.e, { type: 'childSaDown', sa: ci1!.sa, inboundSpi: ci1!.inbound.spi, outboundSpi: ci1!.outbound.spi, reason: 'rekeyed' })
  assert.deepEqual(dr[0]!.e, { type: 'childSaDown', sa: cr1!.sa, inboundSpi: cr1!.inbound.spi, outboundSpi: cr1!.outbound.spi, reason: 'rekeyed' })
  assert.equal(p.events.i.filter((e) => e.type === 'closed').length, 0)
})

test('a rekey survives each single lost quick mode message (retransmission or the reply cache)', () => {
  for (const lose of [0, 1, 2]) {
    const p = pair({ seed: 410 + lose })
    p.connect()
    p.pump()
    const up = p.clock.now
    const [ci1] = childOf(p.events.i)
    runUntil(p, up + 3_000_000)
    const mark = p.log.length
    let qm = 0
    // Drop the lose-th quick mode datagram of the rekey (QM1, QM2 or QM3).
    const fate: Fate = (n) => (n >= mark && p.log[n]!.data[EXCHANGE] === QUICK_MODE && qm++ === lose ? 'drop' : 'ok')
    runUntil(p, up + 3_300_000, fate)
    const ci = childOf(p.events.i), cr = childOf(p.events.r)
    assert.equal(ci.length, 2, `lost quick mode message ${lose + 1}`)
    assert.equal(cr.length, 2, `lost quick mode message ${lose + 1} (responder)`)
    assert.equal(ci[1]!.rekeyOf, ci1!.inbound.spi)
    assert.deepEqual(ci[1]!.outbound.keymat, cr[1]!.inbound.keymat)
    assert.ok((p.i.counters()['tx:retransmit'] ?? 0) + (p.r.counters()['tx:retransmit'] ?? 0) + (p.r.counters()['rx:retransmission'] ?? 0) + (p.i.counters()['rx:retransmission'] ?? 0) >= 1)
    assert.deepEqual(down(p.events.i).map((d) => d.reason), ['rekeyed'])
    assert.equal(p.events.i.filter((e) => e.type === 'closed').length, 0)
  }
})

test('a child nobody rekeys dies at its hard lifetime on both sides (reason expired), the IKE SA stays', () => {
  // The initiator's margin 0 means no rekey; the responder grants only 600 s (RESPONDER-LIFETIME, RFC 2407 §4.6.3.1).
  const p = pair({ seed: 420, iExtra: { rekey: { marginMs: 0 } }, rExtra: { childLifetimeSeconds: 600 } })
  p.connect()
  p.pump()
  const up = p.clock.now
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.equal(ci!.lifetimeSeconds, 600, 'the initiator adopted the responder lifetime')
  assert.equal(cr!.lifetimeSeconds, 600)
  runUntil(p, up + 599_999)
  assert.equal(down(p.events.i).length + down(p.events.r).length, 0)
  runUntil(p, up + 600_000)
  assert.deepEqual(down(p.events.i).map((d) => [d.inboundSpi, d.reason]), [[ci!.inbound.spi, 'expired']])
  assert.deepEqual(down(p.events.r).map((d) => [d.inboundSpi, d.reason]), [[cr!.inbound.spi, 'expired']])
  assert.equal(childOf(p.events.i).length, 1, 'no rekey')
  assert.equal(p.i.saCount, 1); assert.equal(p.r.saCount, 1)
  // The DELETE for an SA the peer already dropped is harmless.
  assert.equal(p.i.counters()['error:internal'] ?? 0, 0)
})

test('RESPONDER-LIFETIME shortens the initiator\'s rekey schedule', () => {
  const p = pair({ seed: 430, rExtra: { childLifetimeSeconds: 1200 } })
  p.connect()
  p.pump()
  const up = p.clock.now
  runUntil(p, up + 659_000)
  assert.equal(childOf(p.events.i).length, 1)
  runUntil(p, up + 1_000_000)
  const ci = childOf(p.events.i)
  assert.equal(ci.length, 2, 'rekeyed at 1200 s - 9 min (+ jitter)')
  assert.equal(ci[1]!.lifetimeSeconds, 1200)
  assert.deepEqual(down(p.events.r).map((d) => d.reason), ['rekeyed'])
})

test('rekeyChild(): on demand from either end, with the same mode and selectors; unknown or replaced SPIs refused', () => {
  const p = pair({ seed: 440 })
  p.connect()
  p.pump()
  const [ci1] = childOf(p.events.i), [cr1] = childOf(p.events.r)
  assert.equal(p.i.rekeyChild(p.clock.now, 0x1234), false)
  assert.equal(p.i.rekeyChild(p.clock.now, ci1!.inbound.spi), true)
  assert.equal(p.i.rekeyChild(p.clock.now, ci1!.inbound.spi), true, 'already in flight')
  p.pump()
  const ci2 = childOf(p.events.i)[1]!, cr2 = childOf(p.events.r)[1]!
  assert.equal(ci2.rekeyOf, ci1!.inbound.spi)
  assert.equal(cr2.rekeyOf, cr1!.inbound.spi)
  assert.ok(espRoundTrip(ci2, cr2, 'on demand'))
  assert.equal(p.i.rekeyChild(p.clock.now, ci1!.inbound.spi), false, 'replaced')
  assert.equal(childOf(p.events.i).length, 2, 'a single quick mode for two calls')
  // The ISAKMP responder (the gateway, on an ESP soft limit) starts the quick mode this time (RFC 2409 §5.5).
  assert.equal(p.r.rekeyChild(p.clock.now, cr2.inbound.spi), true)
  p.pump()
  const cr3 = childOf(p.events.r)[2]!, ci3 = childOf(p.events.i)[2]!
  assert.equal(cr3.rekeyOf, cr2.inbound.spi)
  assert.equal(ci3.rekeyOf, ci2.inbound.spi)
  assert.equal(cr3.selectors?.local.port, 1701)
  assert.deepEqual(cr3.selectors, cr2.selectors)
  assert.ok(espRoundTrip(cr3, ci3, 'rekeyed by the responder'))
  assert.ok(espRoundTrip(ci3, cr3, 'and back'))
  runUntil(p, p.clock.now + 20_000)
  // Each old child went down once on each side, as 'rekeyed' (by its own overlap timer or the peer's DELETE).
  const spis = (evs: readonly Ev[]) => down(evs).map((d) => `${d.inboundSpi} ${d.reason}`).sort()
  assert.deepEqual(spis(p.events.i), [`${ci1!.inbound.spi} rekeyed`, `${ci2.inbound.spi} rekeyed`].sort())
  assert.deepEqual(spis(p.events.r), [`${cr1!.inbound.spi} rekeyed`, `${cr2.inbound.spi} rekeyed`].sort())
  // The new child is the one the initiator now rekeys by its own schedule.
  assert.equal(p.events.i.filter((e) => e.type === 'closed').length, 0)
})

test('two rekeys due at once go one after the other (one quick mode in flight per ISAKMP SA), both complete', () => {
  const p = pair({ seed: 450 })
  const name = p.connect()
  p.pump()
  // A second child with other selectors (UDP port 1702) on the same ISAKMP SA.
  const [ca] = childOf(p.events.i)
  const sel = ca!.selectors!
  p.i.createChildSa(p.clock.now, name, { mode: 'transport', selectors: { local: { ...sel.local, port: 1702 }, remote: { ...sel.remote, port: 1702 } } })
  p.pump()
  const cb = childOf(p.events.i)[1]!
  assert.equal(cb.selectors?.local.port, 1702)
  const mark = p.log.length
  assert.equal(p.i.rekeyChild(p.clock.now, ca!.inbound.spi), true)
  assert.equal(p.i.rekeyChild(p.clock.now, cb.inbound.spi), true, 'scheduled behind the first')
  p.pump()
  assert.equal(p.log.slice(mark).filter((l) => l.from === 'i' && l.data[18] === QUICK_MODE).length, 2, 'QM1 and QM3 of the first rekey only')
  runUntil(p, p.clock.now + 30_000)
  const ups = childOf(p.events.i).slice(2)
  assert.deepEqual(ups.map((u) => u.rekeyOf).sort(), [ca!.inbound.spi, cb.inbound.spi].sort())
  assert.deepEqual(ups.map((u) => u.selectors?.local.port).sort(), [1701, 1702])
  const rUps = childOf(p.events.r).slice(2)
  assert.deepEqual(rUps.map((u) => u.selectors?.remote.port).sort(), [1701, 1702], 'the responder matched each by its selectors')
  assert.equal(rUps.filter((u) => u.rekeyOf !== undefined).length, 2)
  assert.deepEqual(down(p.events.i).map((d) => d.reason), ['rekeyed', 'rekeyed'])
  assert.deepEqual(down(p.events.r).map((d) => d.reason), ['rekeyed', 'rekeyed'])
})

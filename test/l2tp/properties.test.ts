// Property tests (fast-check): L2TP decoders only ever throw DecodeError; header and AVP round trips;
// hidden values reveal to what was hidden; two channels over a lossy, reordering, duplicating link
// deliver every message once and in order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeL2tp, encodeControl, encodeData } from '../../src/l2tp/header.js'
import { decodeControlBody, decodeRawAvps, encodeControlBody } from '../../src/l2tp/avp/codec.js'
import { hideAvpValue, revealAvpValue } from '../../src/l2tp/avp/hidden.js'
import { validateControlMessage } from '../../src/l2tp/rules.js'
import { ControlChannel } from '../../src/l2tp/control/channel.js'
import type { ControlHeader } from '../../src/l2tp/header.js'
import { MessageType } from '../../src/l2tp/avp/constants.js'
import { DecodeError } from '../../src/lib/errors.js'
import { toHex } from '../../src/lib/bytes.js'

const onlyDecodeError = (f: () => unknown): void => {
  try { f() } catch (e) { assert.ok(e instanceof DecodeError, String(e)) }
}

test('decoders only throw DecodeError (random bytes, and random AVP bodies after a Message Type)', () => {
  const secret = new Uint8Array([1, 2, 3])
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    onlyDecodeError(() => decodeL2tp(b))
    onlyDecodeError(() => decodeRawAvps(b))
    onlyDecodeError(() => decodeControlBody(b, { secret }))
    const withType = new Uint8Array(8 + b.length)
    withType.set([0x80, 0x08, 0, 0, 0, 0, 0, 1]); withType.set(b, 8)
    onlyDecodeError(() => validateControlMessage(decodeControlBody(withType, { secret })))
  }), { numRuns: 3000 })
})

test('AVP-shaped garbage: well-formed headers with random types, flags and values', () => {
  const avp = fc.record({ flags: fc.integer({ min: 0, max: 0xff }), type: fc.integer({ min: 0, max: 45 }), value: fc.uint8Array({ maxLength: 30 }) })
  fc.assert(fc.property(fc.array(avp, { maxLength: 8 }), (avps) => {
    const parts = [[0x80, 0x08, 0, 0, 0, 0, 0, 36, 0x55].slice(0, 8)]
    for (const a of avps) { const len = 6 + a.value.length; parts.push([(a.flags & 0xfc) | (len >> 8), len & 0xff, 0, 0, 0, a.type, ...a.value]) }
    const b = new Uint8Array(parts.flat())
    onlyDecodeError(() => validateControlMessage(decodeControlBody(b, { secret: new Uint8Array([9]) })))
  }), { numRuns: 2000 })
})

test('header round trips', () => {
  const u16 = fc.integer({ min: 0, max: 0xffff })
  fc.assert(fc.property(u16, u16, u16, u16, fc.uint8Array({ maxLength: 40 }), (t, s, ns, nr, body) => {
    const p = decodeL2tp(encodeControl({ tunnelId: t, sessionId: s, ns, nr }, body))
    assert.deepEqual(p.header, { type: 'control', tunnelId: t, sessionId: s, ns, nr })
    assert.equal(toHex(p.payload), toHex(body))
    const d = decodeL2tp(encodeData({ tunnelId: t, sessionId: s, ns }, body))
    assert.deepEqual([d.header.tunnelId, d.header.sessionId, d.header.ns, toHex(d.payload)], [t, s, ns, toHex(body)])
  }))
})

test('AVP body round trips, clear and hidden', () => {
  const ascii = fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'a') || 'a')
  fc.assert(fc.property(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffff }), ascii, fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 20 }),
    (sid, serial, calling, challenge, hide, rv) => {
      const fields = { messageType: MessageType.ICRQ, assignedSessionId: sid, callSerialNumber: serial, callingNumber: calling, challenge }
      const secret = new Uint8Array([7, 7])
      const body = encodeControlBody(fields, hide ? { hide: ['assignedSessionId', 'callingNumber', 'challenge'], secret, randomVector: rv } : {})
      const m = decodeControlBody(body, { secret })
      assert.deepEqual({ ...m.fields, randomVector: undefined, challenge: toHex(m.fields.challenge!) }, { ...fields, randomVector: undefined, challenge: toHex(challenge) })
    }))
})

test('hidden values reveal to the original for any length and padding', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.uint8Array({ maxLength: 16 }),
    (type, value, pad, rv, secret) => {
      assert.equal(toHex(revealAvpValue(type, hideAvpValue(type, value, secret, rv, pad), secret, rv)), toHex(value))
    }))
})

test('two channels over a lossy, reordering, duplicating link deliver everything once, in order', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 0x7fffffff }), fc.integer({ min: 1, max: 4 }), (count, seed, rws) => {
    // A seeded stream, not a periodic pattern: a periodic loss pattern can phase-lock with the
    // retransmission schedule and lose every acknowledgment forever.
    let s = seed
    const rand = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % 10 }
    let now = 1000
    const a = new ControlChannel(now, { helloInterval: 0, maxRetries: 50 }), b = new ControlChannel(now, { helloInterval: 0, maxRetries: 50 })
    a.setPeerWindow(rws)
    const got: number[] = []
    for (let n = 0; n < count; n++) a.send(now, 0, encodeControlBody({ messageType: MessageType.HELLO, firmwareRevision: n }))
    const link: [ControlChannel, Uint8Array][] = []
    for (let round = 0; round < 2000 && got.length < count; round++) {
      for (let dg = a.pollTransmit(); dg; dg = a.pollTransmit()) link.push([b, dg])
      for (let dg = b.pollTransmit(); dg; dg = b.pollTransmit()) link.push([a, dg])
      // 30% loss, 10% duplication, 50% of the time the head of the queue goes to its back.
      const lose = rand() < 3, dup = rand() === 0
      if (rand() < 5 && link.length > 1) link.push(link.shift()!)
      const next = link.shift()
      if (next && !lose) {
        const p = decodeL2tp(next[1])
        next[0].handleMessage(now, p.header as ControlHeader, p.payload)
        if (dup) next[0].handleMessage(now, p.header as ControlHeader, p.payload)
      }
      for (let d = b.pollDelivered(); d; d = b.pollDelivered()) got.push(decodeControlBody(d.body).fields.firmwareRevision!)
      if (link.length === 0) {
        const t = Math.min(a.nextTimeout() ?? Infinity, b.nextTimeout() ?? Infinity)
        if (t === Infinity) break
        now = Math.max(now, t); a.handleTimeout(now); b.handleTimeout(now)
      }
    }
    assert.deepEqual(got, Array.from({ length: count }, (_, k) => k))
    assert.equal(a.pollEvent(), undefined)
  }), { numRuns: 300 })
})

test('the LNS listener and tunnels never throw on arbitrary datagrams, before and after a tunnel is up', async () => {
  const { L2tpLnsListener } = await import('../../src/l2tp/lns-listener.js')
  const { encodeControl } = await import('../../src/l2tp/header.js')
  const { PROTOCOL_VERSION } = await import('../../src/l2tp/avp/constants.js')
  const rng = { bytes: (n: number): Uint8Array => new Uint8Array(n).fill(7) }
  const ep = { address: '198.18.0.1', port: 1701 }
  const sccrq = encodeControl({ tunnelId: 0, sessionId: 0, ns: 0, nr: 0 }, encodeControlBody({ messageType: MessageType.SCCRQ, protocolVersion: PROTOCOL_VERSION, hostName: 'x', framingCapabilities: 1, assignedTunnelId: 1 }))
  // Shaped garbage: a valid control header for tunnel 0x0707 (the ID the fixed Rng yields) with random Ns/Nr and body.
  const shaped = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 60 }), fc.boolean())
    .map(([ns, nr, body, withType]) => {
      const b = withType ? new Uint8Array([0x80, 0x08, 0, 0, 0, 0, 0, body[0] ?? 6, ...body.subarray(1)]) : body
      return encodeControl({ tunnelId: 0x0707, sessionId: body[1] ?? 0, ns, nr }, b)
    })
  fc.assert(fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 60 }), shaped), { maxLength: 25 }), fc.boolean(), (dgs, setUp) => {
    let now = 5000
    const l = new L2tpLnsListener({ rng, hostName: 'gw', secret: new Uint8Array([1]) })
    if (setUp) l.handleDatagram(now, sccrq, ep)
    for (const dg of dgs) {
      l.handleDatagram(now, dg, ep)
      now += 300
      l.handleTimeout(now)
      while (l.pollTransmit()); while (l.pollEvent()); while (l.pollFrame());
    }
    l.handleTimeout(now + 100_000)
  }), { numRuns: 1500 })
})

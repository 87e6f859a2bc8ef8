// Server and client cores against scripted and hostile peer bytes: [MS-SSTP] §3.1.5.1 (errors abort only this
// connection), §3.3.5 server processing, §3.1.2 timers, §4.1/§4.7 exchanges. Uses the real PppSession inside.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { concatBytes, toHex, utf8 } from '../../src/lib/bytes.js'
import { sha256 } from '../../src/crypto/hash.js'
import { PppSession } from '../../src/ppp/session.js'
import { SstpServerConnection } from '../../src/sstp/server-connection.js'
import { SstpClientConnection } from '../../src/sstp/client-connection.js'
import type { SstpEvent } from '../../src/sstp/connection-base.js'
import { encodeDataPacket } from '../../src/sstp/packet.js'
import { SstpMessageType, encodeBareMessage, encodeControlPacket } from '../../src/sstp/messages.js'
import { encodeSstpRequest, encodeSstpResponse } from '../../src/sstp/preamble.js'
import { fixedRng } from '../helpers/clock.js'
import { SERVER_CERT_DER } from './harness.js'
import { hx } from './load-vectors.js'

const T0 = 1_000_000
const REQUEST = encodeSstpRequest('gw.test', '{00000000-0000-4000-8000-000000000000}')
const CONNECT_REQUEST = hx('10 01 00 0E 00 01 00 01 00 01 00 06 00 01') // [MS-SSTP] §4.7

function server(): SstpServerConnection {
  return new SstpServerConnection({
    rng: fixedRng(1), certHashSha256: sha256(SERVER_CERT_DER),
    createPpp: (t) => new PppSession({ role: 'server', rng: fixedRng(2), authMethods: ['mschapv2'], authName: 'gw', localAddress: '198.19.0.1' }, t),
  }, T0)
}

function drain(c: { pollTransmit(): Uint8Array | undefined }): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let b = c.pollTransmit(); b; b = c.pollTransmit()) out.push(b)
  return out
}
function events(c: { pollEvent(): SstpEvent | undefined }): SstpEvent[] {
  const out: SstpEvent[] = []
  for (let e = c.pollEvent(); e; e = c.pollEvent()) out.push(e)
  return out
}
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

test('server: §4.1 response and §4.7-shaped Call Connect Ack (nonce from rng, SHA-256 bitmask), then LCP starts', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, CONNECT_REQUEST))
  const out = drain(s)
  assert.deepEqual(out[0], encodeSstpResponse())
  const nonce = fixedRng(1).bytes(32)
  assert.deepEqual(out[1], hx(`10 01 00 30 00 02 00 01 00 04 00 28 00 00 00 02 ${toHex(nonce)}`))
  assert.equal(toHex(out[2]!.subarray(0, 2)), '1000') // a data packet ...
  assert.equal(toHex(out[2]!.subarray(4, 8)), 'ff03c021') // ... carrying LCP with FF 03
  assert.equal(s.currentState, 'call-connected-pending')
  assert.deepEqual(events(s), [])
})

test('server: the same output whatever the chunking of the preamble and first message', () => {
  const stream = concatBytes(REQUEST, CONNECT_REQUEST)
  const ref = server()
  ref.handleBytes(T0, stream)
  const want = drain(ref).map(toHex).join('')
  for (let i = 0; i <= stream.length; i++) {
    const s = server()
    s.handleBytes(T0, stream.subarray(0, i))
    s.handleBytes(T0, stream.subarray(i))
    assert.equal(drain(s).map(toHex).join(''), want, `split ${i}`)
  }
  const s = server()
  for (const b of stream) s.handleBytes(T0, new Uint8Array([b]))
  assert.equal(drain(s).map(toHex).join(''), want)
})

test('server: wrong method / URI / oversized head -> HTTP error, closed protocol-error, counted', () => {
  const cases: [string, RegExp, string][] = [
    ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 405 /, 'http:bad-method'],
    ['SSTP_DUPLEX_POST /other/ HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 404 /, 'http:bad-uri'],
    [`SSTP_DUPLEX_POST /x HTTP/1.1\r\nX: ${'a'.repeat(9000)}`, /^HTTP\/1\.1 431 /, 'http:head-too-large'],
  ]
  for (const [req, status, counter] of cases) {
    const s = server()
    s.handleBytes(T0, utf8(req))
    const out = drain(s)
    assert.equal(out.length, 1)
    assert.match(text(out[0]!), status)
    const ev = events(s)
    assert.equal(ev.length, 1)
    assert.deepEqual(ev[0]?.type === 'closed' && ev[0].reason, 'protocol-error')
    assert.equal(s.counters()[counter], 1)
    assert.equal(s.nextTimeout(), undefined)
  }
})

test('server: unsupported encapsulated protocol -> Call Connect Nak (Status Info: attrib 1, VALUE_NOT_SUPPORTED, 0001); abort after 3', () => {
  const s = server()
  s.handleBytes(T0, REQUEST)
  drain(s)
  const other = hx('10 01 00 0E 00 01 00 01 00 01 00 06 00 02')
  for (let i = 0; i < 3; i++) {
    s.handleBytes(T0, other)
    assert.deepEqual(drain(s), [hx('10 01 00 16 00 03 00 01 00 02 00 0E 00 00 00 01 00 00 00 04 00 01')])
  }
  s.handleBytes(T0, other)
  assert.deepEqual(drain(s), [hx('10 01 00 14 00 05 00 01 00 02 00 0C 00 00 00 01 00 00 00 06')]) // RETRY_COUNT_EXCEEDED
  s.handleTimeout(T0 + 3000) // TIMER_VAL_ABORT_STATE_TIMER_1
  const ev = events(s)
  assert.deepEqual(ev.map((e) => e.type === 'closed' && e.reason), ['protocol-error'])
})

test('server: undelineable stream (bad version) is closed at once without a message (§3.1.5.1)', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, hx('20 01 00 08 00 08 00 00')))
  assert.deepEqual(drain(s), [encodeSstpResponse()])
  const ev = events(s)
  assert.deepEqual(ev.map((e) => e.type === 'closed' && e.reason), ['protocol-error'])
  assert.equal(s.counters()['framing:bad-version'], 1)
})

test('server: malformed control message -> Call Abort; peer Abort answers -> closed after TIMER_2 (1 s)', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, hx('10 01 00 0E 00 01 00 01 00 01 00 09 00 01')))
  const out = drain(s)
  assert.deepEqual(out[1], hx('10 01 00 14 00 05 00 01 00 02 00 0C 00 00 00 00 00 00 00 07')) // INVALID_FRAME_RECEIVED
  assert.equal(s.counters()['decode:attribute.value'], 1) // Length 9 runs past the 14-byte packet
  s.handleBytes(T0 + 10, encodeBareMessage(SstpMessageType.EchoRequest)) // ignored in Call_Abort_Pending
  assert.deepEqual(drain(s), [])
  s.handleBytes(T0 + 20, hx('10 01 00 08 00 05 00 00'))
  assert.equal(s.nextTimeout(), T0 + 20 + 1000)
  s.handleTimeout(T0 + 1020)
  assert.deepEqual(events(s).map((e) => e.type === 'closed' && e.reason), ['protocol-error'])
})

test('server: message rule violations and unexpected messages abort', () => {
  for (const bad of [
    encodeControlPacket({ messageType: SstpMessageType.CallConnectRequest, attributes: [] }), // required attribute missing
    encodeBareMessage(SstpMessageType.CallConnectAck), // a server never receives an Ack (and it lacks its attribute)
    encodeBareMessage(0x77), // unknown message type
    encodeBareMessage(SstpMessageType.CallDisconnectAck), // nothing to acknowledge
  ]) {
    const s = server()
    s.handleBytes(T0, concatBytes(REQUEST, bad))
    const out = drain(s)
    assert.equal(toHex(out[1]!.subarray(0, 6)), '100100140005', toHex(bad))
  }
})

test('server: Call Connected before PPP authentication is refused (crypto-binding-failed)', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, CONNECT_REQUEST))
  drain(s)
  s.handleBytes(T0, hx('10 01 00 70 00 04 00 01 00 03 00 68 00 00 00 02' + ' 00'.repeat(96)))
  assert.equal(toHex(drain(s)[0]!.subarray(0, 6)), '100100140005')
  s.handleTimeout(T0 + 3000)
  assert.deepEqual(events(s).map((e) => e.type === 'closed' && e.reason), ['crypto-binding-failed'])
})

test('server: IP data before Call Connected is dropped, LCP still passes; Echo Request answered', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, CONNECT_REQUEST))
  drain(s)
  s.handleBytes(T0, encodeDataPacket(hx('FF 03 00 21 45 00 00 14 00 00 00 00 40 01 00 00 01 02 03 04 05 06 07 08')))
  assert.equal(s.counters()['drop:data-before-call-connected'], 1)
  s.handleBytes(T0, encodeBareMessage(SstpMessageType.EchoRequest))
  assert.deepEqual(drain(s), [encodeBareMessage(SstpMessageType.EchoResponse)])
})

test('server: negotiation timers — no request in 60 s closes; no Call Connected in 60 s aborts (timeout)', () => {
  const a = server()
  assert.equal(a.nextTimeout(), T0 + 60_000)
  a.handleTimeout(T0 + 59_999)
  assert.deepEqual(events(a), [])
  a.handleTimeout(T0 + 60_000)
  assert.deepEqual(events(a).map((e) => e.type === 'closed' && e.reason), ['timeout'])
  const b = new SstpServerConnection({
    rng: fixedRng(1), certHashSha256: sha256(SERVER_CERT_DER),
    createPpp: (t) => new PppSession({ role: 'server', rng: fixedRng(2), authMethods: ['mschapv2'], authName: 'gw', localAddress: '198.19.0.1', restartMs: 100_000 }, t),
  }, T0)
  b.handleBytes(T0, concatBytes(REQUEST, CONNECT_REQUEST))
  drain(b)
  b.handleTimeout(T0 + 60_000)
  const out = drain(b)
  assert.ok(out.some((x) => toHex(x) === toHex(hx('10 01 00 14 00 05 00 01 00 02 00 0C 00 00 00 00 00 00 00 08'))), out.map(toHex).join(' ')) // NEGOTIATION_TIMEOUT
  b.handleTimeout(T0 + 63_000)
  assert.deepEqual(events(b).filter((e) => e.type === 'closed').map((e) => e.type === 'closed' && e.reason), ['timeout'])
})

test('server: peer Call Disconnect -> Disconnect Ack, closed peer-disconnected after 1 s', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, CONNECT_REQUEST))
  drain(s)
  s.handleBytes(T0 + 5, encodeBareMessage(SstpMessageType.CallDisconnect))
  assert.deepEqual(drain(s), [encodeBareMessage(SstpMessageType.CallDisconnectAck)])
  assert.deepEqual(events(s), [])
  s.handleTimeout(T0 + 1005)
  assert.deepEqual(events(s).map((e) => e.type === 'closed' && e.reason), ['peer-disconnected'])
})

test('server close(): Call Disconnect carries one Status Info (AttribID 0, no error), §2.2.14 / §2.2.8', () => {
  const s = server()
  s.handleBytes(T0, concatBytes(REQUEST, CONNECT_REQUEST))
  drain(s)
  s.close(T0 + 5, 'admin', 'shutting down')
  const out = drain(s).map(toHex)
  // Header (len 20) | type 0006, 1 attribute | Status Info: attr 02, len 12, reserved, AttribID 0, Status 0.
  assert.ok(out.includes(toHex(hx('10 01 00 14 00 06 00 01 00 02 00 0C 00 00 00 00 00 00 00 00'))), out.join(' / '))
})

test('property: random peer bytes (after a valid preamble or not) never throw; closed at most once', () => {
  fc.assert(fc.property(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 4 }), (preamble, chunks, ticks) => {
    const s = server()
    let now = T0
    if (preamble) s.handleBytes(now, concatBytes(REQUEST, CONNECT_REQUEST))
    for (const c of chunks) {
      // Keep many chunks framed so they reach the message decoder, not only the framer.
      const framed = c.length >= 4 && c[0]! % 2 === 0 ? concatBytes(hx(`10 ${c[1]! & 1 ? '01' : '00'}`), new Uint8Array([(c.length + 4) >> 8, (c.length + 4) & 0xff]), c) : c
      s.handleBytes(now, framed)
    }
    for (const t of ticks) { now += t; s.handleTimeout(now) }
    s.handleEof(now)
    drain(s)
    assert.ok(events(s).filter((e) => e.type === 'closed').length === 1)
    assert.equal(s.counters()['internal-error'], undefined)
  }), { numRuns: 400 })
})

test('client: non-200 response -> closed http-refused naming the status line; Nak -> retry; empty bitmask -> abort', () => {
  const mk = (): SstpClientConnection => new SstpClientConnection({
    rng: fixedRng(3), host: 'gw', certHashSha256: sha256(SERVER_CERT_DER),
    createPpp: (t) => new PppSession({ role: 'client', rng: fixedRng(4), user: 'u', password: 'p' }, t),
  }, T0)
  const a = mk()
  drain(a)
  a.handleBytes(T0, utf8('HTTP/1.1 503 Service Unavailable\r\n\r\n'))
  const ev = events(a)
  assert.equal(ev.length, 1)
  assert.ok(ev[0]?.type === 'closed' && ev[0].reason === 'http-refused' && /503 Service Unavailable/.test(ev[0].message))

  const b = mk()
  drain(b)
  b.handleBytes(T0, encodeSstpResponse())
  assert.deepEqual(drain(b), [CONNECT_REQUEST])
  b.handleBytes(T0, hx('10 01 00 16 00 03 00 01 00 02 00 0E 00 00 00 01 00 00 00 04 00 01'))
  assert.deepEqual(drain(b), [CONNECT_REQUEST]) // resent (§3.2.5.3.3)
  b.handleBytes(T0, hx('10 01 00 30 00 02 00 01 00 04 00 28 00 00 00 00' + ' 00'.repeat(32)))
  assert.equal(toHex(drain(b)[0]!.subarray(0, 6)), '100100140005')
  assert.equal(b.counters()['binding:no-hash-protocol'], 1)
})

test('property: random bytes into the client core never throw; closed at most once', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
    const c = new SstpClientConnection({
      rng: fixedRng(3), host: 'gw', certHashSha256: sha256(SERVER_CERT_DER),
      createPpp: (t) => new PppSession({ role: 'client', rng: fixedRng(4), user: 'u', password: 'p' }, t),
    }, T0)
    c.handleBytes(T0, encodeSstpResponse())
    for (const ch of chunks) c.handleBytes(T0, ch)
    c.handleTimeout(T0 + 500_000)
    c.handleEof(T0 + 500_001)
    drain(c)
    assert.equal(events(c).filter((e) => e.type === 'closed').length, 1)
    assert.equal(c.counters()['internal-error'], undefined)
  }), { numRuns: 300 })
})

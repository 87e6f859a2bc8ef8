// SSTP stream framer ([MS-SSTP] §2.2.1, §3.1.5.1) and HTTP head reader (§4.1): split at every offset.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { concatBytes, toHex, utf8 } from '../../src/lib/bytes.js'
import { SstpFramer } from '../../src/sstp/framer.js'
import { encodeDataPacket } from '../../src/sstp/packet.js'
import { SstpMessageType, encodeBareMessage, encodeControlPacket } from '../../src/sstp/messages.js'
import { HttpHeadReader, SSTP_URI, checkSstpRequest, checkSstpResponse, encodeSstpRequest, encodeSstpResponse, formatCorrelationId } from '../../src/sstp/preamble.js'
import { hx } from './load-vectors.js'

const packets = [
  encodeControlPacket({ messageType: SstpMessageType.CallConnectRequest, attributes: [{ attribute: 'encapsulatedProtocolId', protocolId: 1 }] }),
  encodeDataPacket(hx('FF 03 C0 21 01 01 00 04')),
  encodeBareMessage(SstpMessageType.EchoRequest),
  encodeDataPacket(new Uint8Array(4091).map((_, i) => i & 0xff)), // a maximum-size packet
  hx('10 00 00 04'), // empty data packet: structurally valid
  encodeDataPacket(new Uint8Array(300).fill(7)),
]
const stream = concatBytes(...packets)
const expected = packets.map(toHex)

function collect(chunks: readonly Uint8Array[]): { got: string[]; err: string | undefined; maxBuffered: number } {
  const f = new SstpFramer()
  const got: string[] = []
  let err: string | undefined
  let maxBuffered = 0
  for (const c of chunks) {
    err = f.push(c, (p, control) => { got.push(toHex(p)); assert.equal(control, (p[1]! & 1) === 1) }) ?? err
    maxBuffered = Math.max(maxBuffered, f.buffered)
  }
  return { got, err, maxBuffered }
}

test('framer: one chunk, every two-way split, 1-byte chunks all give the same packets', () => {
  assert.deepEqual(collect([stream]).got, expected)
  for (let i = 0; i <= stream.length; i++) {
    const r = collect([stream.subarray(0, i), stream.subarray(i)])
    assert.deepEqual(r.got, expected, `split at ${i}`)
    assert.equal(r.err, undefined)
    assert.ok(r.maxBuffered <= 4095)
  }
  const ones = collect(Array.from(stream, (b) => new Uint8Array([b])))
  assert.deepEqual(ones.got, expected)
  assert.ok(ones.maxBuffered < 4095)
})

test('framer: delivered views stay intact until the next push, even when the same chunk leaves a new partial', () => {
  for (let i = 1; i < stream.length; i++) {
    for (const j of [i + 1, i + 5, i + 600, stream.length]) {
      if (j > stream.length) continue
      const f = new SstpFramer()
      const views: Uint8Array[] = []
      f.push(stream.subarray(0, i), (p) => views.push(p))
      const before = views.length
      f.push(stream.subarray(i, j), (p) => views.push(p)) // may complete a gathered packet and keep a new tail
      assert.deepEqual(views.slice(before).map(toHex), expected.slice(before, views.length), `split ${i}/${j}`)
    }
  }
})

test('framer: random chunkings give the same packets (property)', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 12 }), (cuts) => {
    const pts = [...new Set(cuts)].sort((a, b) => a - b)
    const chunks: Uint8Array[] = []
    let prev = 0
    for (const c of pts) { chunks.push(stream.subarray(prev, c)); prev = c }
    chunks.push(stream.subarray(prev))
    assert.deepEqual(collect(chunks).got, expected)
  }))
})

test('framer: wrong version or length below 4 is fatal and sticky, earlier packets still delivered', () => {
  for (const [badHeader, reason] of [['11 00 00 08', 'bad-version'], ['10 01 00 02', 'length-too-short'], ['00 00 00 00', 'bad-version']] as const) {
    const s = concatBytes(packets[2]!, hx(badHeader), packets[2]!)
    for (let i = 0; i <= s.length; i++) {
      const r = collect([s.subarray(0, i), s.subarray(i), packets[2]!])
      assert.equal(r.err, reason, `${badHeader} split ${i}`)
      assert.deepEqual(r.got, [toHex(packets[2]!)])
    }
  }
})

test('framer: never throws and never buffers more than one maximum packet on random input', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 20 }), (chunks) => {
    const f = new SstpFramer()
    for (const c of chunks) {
      f.push(c, (p) => { assert.ok(p.length >= 4 && p.length <= 4095) })
      assert.ok(f.buffered <= 4095)
    }
  }))
})

test('preamble: client request golden bytes (§4.1) and a GUID correlation id', () => {
  const id = formatCorrelationId(new Uint8Array(16).fill(0xab))
  assert.match(id, /^\{[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}$/)
  assert.deepEqual(encodeSstpRequest('vpn.example', '{11111111-2222-4333-8444-555555555555}'), utf8(
    'SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\nHost: vpn.example\r\n' +
    'Content-Length: 18446744073709551615\r\nSSTPCORRELATIONID: {11111111-2222-4333-8444-555555555555}\r\n\r\n'))
  assert.deepEqual(encodeSstpResponse(), utf8('HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\nServer: Microsoft-HTTPAPI/2.0\r\n\r\n'))
})

test('preamble: head reader gives the same head and rest at every split, CRLF or bare LF', () => {
  const req = encodeSstpRequest('gw', '{A}')
  const after = packets[0]!
  for (const s of [concatBytes(req, after), concatBytes(utf8(new TextDecoder().decode(req).replace(/\r\n/g, '\n')), after)]) {
    for (let i = 0; i <= s.length; i++) {
      const rd = new HttpHeadReader()
      let res = rd.push(s.subarray(0, i))
      let rest: Uint8Array = new Uint8Array(0)
      if (res.state === 'done') rest = concatBytes(res.rest, s.subarray(i))
      else { res = rd.push(s.subarray(i)); if (res.state === 'done') rest = res.rest }
      assert.equal(res.state, 'done', `split ${i}`)
      if (res.state !== 'done') return
      assert.deepEqual(rest, after)
      const c = checkSstpRequest(res.head)
      assert.ok(c.ok)
      if (c.ok) { assert.equal(c.host, 'gw'); assert.equal(c.correlationId, '{A}') }
    }
  }
})

test('preamble: an oversized head is refused once it passes the limit, without buffering more', () => {
  const rd = new HttpHeadReader(1024)
  assert.equal(rd.push(utf8(`SSTP_DUPLEX_POST ${SSTP_URI} HTTP/1.1\r\n`)).state, 'more')
  const r = rd.push(utf8('X-Filler: ' + 'a'.repeat(5000)))
  assert.deepEqual(r, { state: 'error', reason: 'head-too-large' })
  assert.deepEqual(rd.push(utf8('\r\n\r\n')), { state: 'error', reason: 'head-too-large' })
  assert.deepEqual(new HttpHeadReader().push(hx('47 45 00 54')), { state: 'error', reason: 'bad-bytes' })
})

test('preamble: wrong method 405, wrong URI 404, wrong version 505, garbage 400', () => {
  const cases: [string, number, string][] = [
    [`POST ${SSTP_URI} HTTP/1.1`, 405, 'bad-method'],
    ['SSTP_DUPLEX_POST /sra_{00000000-0000-0000-0000-000000000000}/ HTTP/1.1', 404, 'bad-uri'],
    [`SSTP_DUPLEX_POST ${SSTP_URI} HTTP/1.0`, 505, 'bad-version'],
    ['garbage', 400, 'bad-request-line'],
    [`SSTP_DUPLEX_POST ${SSTP_URI} HTTP/1.1 extra`, 400, 'bad-request-line'],
    [`SSTP_DUPLEX_POST ${SSTP_URI} HTTX/1.1`, 400, 'bad-request-line'],
    [`SSTP_DUPLEX_POST ${SSTP_URI} HTTP/1.1\r\nno colon here`, 400, 'bad-header'],
  ]
  for (const [head, status, reason] of cases) {
    const c = checkSstpRequest(head)
    assert.equal(c.ok, false, head)
    if (!c.ok) { assert.equal(c.status, status, head); assert.equal(c.reason, reason, head) }
  }
  // the GUID's letter case does not matter
  assert.ok(checkSstpRequest(`SSTP_DUPLEX_POST ${SSTP_URI.toLowerCase()} HTTP/1.1\r\nHost: x`).ok)
})

test('preamble: client response check — 200 with or without reason phrase; anything else fails naming the status line', () => {
  assert.ok(checkSstpResponse('HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615').ok)
  assert.ok(checkSstpResponse('HTTP/1.1 200\r\nServer: Microsoft-HTTPAPI/2.0').ok)
  const r = checkSstpResponse('HTTP/1.1 404 Not Found\r\nContent-Length: 0')
  assert.equal(r.ok, false)
  if (!r.ok) { assert.equal(r.reason, 'http-status'); assert.match(r.message, /HTTP\/1\.1 404 Not Found/) }
  const g = checkSstpResponse('SSH-2.0-OpenSSH')
  assert.equal(g.ok, false)
  if (!g.ok) assert.equal(g.reason, 'bad-status-line')
})

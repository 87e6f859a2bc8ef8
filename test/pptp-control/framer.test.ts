// PPTP control stream framer (RFC 2637 §1.4): split at every offset, one-byte chunks, fatal header errors refused
// before buffering, random chunking never throws.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { concatBytes, toHex } from '../../src/lib/bytes.js'
import { ControlMessageType as T } from '../../src/pptp/control/constants.js'
import { PptpFramer } from '../../src/pptp/control/framer.js'
import { encodeControlMessage } from '../../src/pptp/control/messages.js'

const msgs = [
  encodeControlMessage({ type: T.StartControlConnectionRequest, protocolVersion: 0x100, framingCapabilities: 2, bearerCapabilities: 3, maximumChannels: 0, firmwareRevision: 1, hostName: 'a', vendorString: 'b' }),
  encodeControlMessage({ type: T.EchoRequest, identifier: 7 }),
  encodeControlMessage({ type: T.IncomingCallRequest, callId: 1, callSerialNumber: 2, callBearerType: 1, physicalChannelId: 0, dialedNumberLength: 0, dialingNumberLength: 0, dialedNumber: '', dialingNumber: '', subaddress: '' }),
  encodeControlMessage({ type: T.CallClearRequest, callId: 9 }),
  encodeControlMessage({ type: T.SetLinkInfo, peerCallId: 3, sendAccm: 1, receiveAccm: 2 }),
]
const stream = concatBytes(...msgs)
const expected = msgs.map(toHex)

function run(chunks: readonly Uint8Array[]): { got: string[]; err: string | undefined; max: number } {
  const f = new PptpFramer()
  const got: string[] = []
  let err: string | undefined
  let max = 0
  for (const c of chunks) { err = f.push(c, (m) => got.push(toHex(m)))?.field ?? err; max = Math.max(max, f.buffered) }
  return { got, err, max }
}

test('framer: one chunk, every two-way split and one-byte chunks give the same messages', () => {
  assert.deepEqual(run([stream]).got, expected)
  for (let i = 0; i <= stream.length; i++) {
    const r = run([stream.subarray(0, i), stream.subarray(i)])
    assert.deepEqual(r.got, expected, `split at ${i}`)
    assert.equal(r.err, undefined)
    assert.ok(r.max <= 220)
  }
  assert.deepEqual(run(Array.from(stream, (b) => new Uint8Array([b]))).got, expected)
})

test('framer: every three-way split of the first two messages', () => {
  const s = stream.subarray(0, msgs[0]!.length + msgs[1]!.length)
  for (let i = 0; i <= s.length; i++) for (let j = i; j <= s.length; j++) {
    assert.deepEqual(run([s.subarray(0, i), s.subarray(i, j), s.subarray(j)]).got, expected.slice(0, 2), `${i}/${j}`)
  }
})

test('framer: a declared Length that is not the type\'s (e.g. 60000) is refused at the header, nothing buffered, error sticks', () => {
  const bad = msgs[1]!.slice(); bad[0] = 0xea; bad[1] = 0x60
  const f = new PptpFramer()
  let n = 0
  assert.equal(f.push(concatBytes(msgs[3]!, bad.subarray(0, 12)), () => n++)?.field, 'pptp.length')
  assert.equal(n, 1)
  assert.equal(f.buffered, 0)
  assert.equal(f.push(msgs[3]!, () => n++)?.field, 'pptp.length')
  assert.equal(n, 1)
})

test('framer: a wrong Magic Cookie split across chunks is caught once the header completes', () => {
  const bad = msgs[1]!.slice(); bad[4] = 0
  const f = new PptpFramer()
  assert.equal(f.push(bad.subarray(0, 11), () => assert.fail()), undefined)
  assert.equal(f.push(bad.subarray(11), () => assert.fail())?.field, 'pptp.magicCookie')
})

test('property: random chunkings of random bytes never throw and never buffer more than 220 octets', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
    const f = new PptpFramer()
    for (const c of chunks) { f.push(c, (m) => assert.ok(m.length >= 16 && m.length <= 220)); assert.ok(f.buffered <= 220) }
  }), { numRuns: 2000 })
})

// GreDemux: many peers and calls on one protocol-47 socket, keyed by (peer address, Call ID)
// (RFC 2637 §4.1 Call ID); unknown and malformed packets are counted and disturb no call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { GreCall } from '../../src/pptp/gre/call.js'
import { GreDemux } from '../../src/pptp/gre/demux.js'
import { encodeGre } from '../../src/pptp/gre/packet.js'

const data = (callId: number, seq: number, tag: number): Uint8Array => encodeGre({ callId, sequenceNumber: seq, acknowledgmentNumber: undefined, payload: new Uint8Array([0xff, 0x03, 0x00, 0x21, tag]) })
const call = (local: number): GreCall => new GreCall({ localCallId: local, peerCallId: 100 + local, peerReceiveWindow: 64 })
function tags(c: GreCall): number[] { const out: number[] = []; for (let f; (f = c.pollFrame());) out.push(f[4]!); return out }

test('the same Call ID from two peers, and two calls from one peer, reach the right calls', () => {
  const d = new GreDemux()
  const p1c7 = call(7), p2c7 = call(7), p1c8 = call(8)
  d.add('198.18.0.1', p1c7)
  d.add('198.18.0.2', p2c7)
  d.add('198.18.0.1', p1c8)
  assert.equal(d.size, 3)
  assert.equal(d.handlePacket(0, '198.18.0.1', data(7, 0, 1)), p1c7)
  assert.equal(d.handlePacket(0, '198.18.0.2', data(7, 0, 2)), p2c7)
  assert.equal(d.handlePacket(0, '198.18.0.1', data(8, 0, 3)), p1c8)
  assert.deepEqual([tags(p1c7), tags(p2c7), tags(p1c8)], [[1], [2], [3]])
  assert.throws(() => d.add('198.18.0.1', call(7)), RangeError)
  assert.equal(d.get('198.18.0.2', 7), p2c7)
})

test('unknown call ids, unknown peers and malformed packets are counted and leave other calls untouched', () => {
  const d = new GreDemux()
  const c = call(7)
  d.add('198.18.0.1', c)
  d.handlePacket(0, '198.18.0.1', data(7, 0, 1))
  assert.equal(d.handlePacket(0, '198.18.0.1', data(9, 1, 2)), undefined) // unknown call id
  assert.equal(d.handlePacket(0, '198.18.0.3', data(7, 1, 3)), undefined) // right id, wrong peer
  assert.equal(d.handlePacket(0, '198.18.0.1', new Uint8Array([1, 2, 3])), undefined)
  assert.equal(d.handlePacket(0, '198.18.0.1', Uint8Array.from(Buffer.from('3001880b000500070000000100', 'hex'))), undefined) // length mismatch
  d.handlePacket(0, '198.18.0.1', data(7, 1, 4))
  assert.deepEqual(tags(c), [1, 4]) // seq 1 from the wrong peer did not consume seq 1
  assert.deepEqual(d.counters(), { 'rx:packets': 2, 'drop:unknown-call': 2, 'drop:malformed:gre.header': 1, 'drop:malformed:gre.payloadLength': 1 })
  assert.equal(c.counters()['drop:duplicate'], undefined)
  assert.equal(d.remove('198.18.0.1', 7), true)
  assert.equal(d.handlePacket(0, '198.18.0.1', data(7, 2, 5)), undefined)
  assert.equal(d.counters()['drop:unknown-call'], 3)
})

test('property: random bytes from any peer never throw and never reach a call', () => {
  const d = new GreDemux()
  const c = call(7)
  d.add('198.18.0.1', c)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
    const hit = d.handlePacket(0, '198.18.0.1', b)
    if (hit) assert.equal(hit, c)
  }), { numRuns: 2000 })
})

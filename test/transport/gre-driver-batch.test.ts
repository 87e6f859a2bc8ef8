// GreDriver receive batching: one received raw batch runs inside `aroundReceive` once (the gateway's
// Dataplane.batch, so the batch reaches the TUN in one writeMany), every call handles its packets
// in order, and each call's timer is re-armed once per batch rather than once per packet.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GreDriver, type GreEndpoint, type GreSocket } from '../../src/transport/gre-driver.js'
import type { RawIpPacket } from '../../src/transport/raw-ip.js'
import { GreCall } from '../../src/pptp/gre/call.js'
import { encodeGre } from '../../src/pptp/gre/packet.js'
import { Counters } from '../../src/lib/counters.js'

function fakeSocket(): { sock: GreSocket; deliver: (b: RawIpPacket[]) => void } {
  let cb: ((b: RawIpPacket[]) => void) | undefined
  const sock: GreSocket = {
    counters: new Counters(),
    send: () => {}, sendMany: () => {},
    onPackets: (f) => { cb = f }, onError: () => {}, unref: () => {}, close: () => {},
  }
  return { sock, deliver: (b) => cb!(b) }
}

function endpoint(localCallId: number, log: string[]): GreEndpoint<never> & { nextTimeoutCalls: number } {
  const gre = new GreCall({ localCallId, peerCallId: 900 + localCallId, peerReceiveWindow: 64 })
  const ep = {
    gre, nextTimeoutCalls: 0,
    afterReceive: () => { for (let f = gre.pollFrame(); f; f = gre.pollFrame()) log.push(`${localCallId}:${f[0]}`) },
    handleTimeout: () => {},
    // Returning undefined keeps the driver from creating real timers in this test.
    nextTimeout: () => { ep.nextTimeoutCalls++; return undefined },
    pollDatagram: () => undefined,
    pollEvent: () => undefined,
  }
  return ep
}

const pkt = (from: string, callId: number, seq: number): RawIpPacket => ({ from, payload: encodeGre({ callId, sequenceNumber: seq, acknowledgmentNumber: undefined, payload: Uint8Array.of(seq, 0x03, 0x00, 0x21) }) })

test('a received batch runs inside aroundReceive once; timers are re-armed once per call per batch', () => {
  const f = fakeSocket()
  const log: string[] = []
  let wraps = 0
  const d = new GreDriver(f.sock, () => {}, (fn) => { wraps++; log.push('begin'); fn(); log.push('end') })
  const a = endpoint(1, log), b = endpoint(2, log)
  d.attach('198.18.0.10', a, () => {}, () => {})
  d.attach('198.18.0.11', b, () => {}, () => {})
  f.deliver([pkt('198.18.0.10', 1, 0), pkt('198.18.0.11', 2, 0), pkt('198.18.0.10', 1, 1), pkt('198.18.0.10', 1, 2), pkt('198.18.0.99', 1, 0)])
  assert.equal(wraps, 1)
  assert.deepEqual(log, ['begin', '1:0', '2:0', '1:1', '1:2', 'end'])
  assert.equal(a.nextTimeoutCalls, 1, 'call 1 handled three packets, armed once')
  assert.equal(b.nextTimeoutCalls, 1)
  assert.equal(d.demux.counters()['drop:unknown-call'], 1)
  f.deliver([pkt('198.18.0.11', 2, 1)])
  assert.equal(wraps, 2)
  assert.equal(a.nextTimeoutCalls, 1, 'an untouched call is not re-armed')
  assert.equal(b.nextTimeoutCalls, 2)
})

test('without aroundReceive the batch is handled directly; a call that throws is closed, the others go on', () => {
  const f = fakeSocket()
  const log: string[] = []
  const d = new GreDriver(f.sock, () => {})
  const a = endpoint(1, log), b = endpoint(2, log)
  const faults: unknown[] = []
  a.afterReceive = () => { throw new Error('bug in call 1') }
  const ba = d.attach('198.18.0.10', a, () => {}, (e) => faults.push(e))
  d.attach('198.18.0.11', b, () => {}, () => {})
  f.deliver([pkt('198.18.0.10', 1, 0), pkt('198.18.0.11', 2, 0), pkt('198.18.0.10', 1, 1), pkt('198.18.0.11', 2, 1)])
  assert.equal(faults.length, 1)
  assert.equal(ba.removed, true)
  assert.deepEqual(log, ['2:0', '2:1'])
  assert.equal(b.nextTimeoutCalls, 1)
})

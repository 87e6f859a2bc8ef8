// The LNS listener: Tunnel ID allocation and demultiplexing (RFC 2661 §5.3), SCCRQ retransmissions to
// the same tunnel, several clients behind one NAT address, peer pinning, half-open bound, §5.7 linger.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { L2tpLnsListener } from '../../src/l2tp/lns-listener.js'
import type { LnsListenerOptions, ListenerEvent } from '../../src/l2tp/lns-listener.js'
import { ControlChannel } from '../../src/l2tp/control/channel.js'
import { decodeL2tp, encodeData } from '../../src/l2tp/header.js'
import type { ControlHeader } from '../../src/l2tp/header.js'
import { decodeControlBody, encodeControlBody } from '../../src/l2tp/avp/codec.js'
import type { ControlMessage } from '../../src/l2tp/avp/codec.js'
import type { AvpFields } from '../../src/l2tp/avp/table.js'
import { MessageType, PROTOCOL_VERSION } from '../../src/l2tp/avp/constants.js'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'
import type { DatagramCore } from '../../src/transport/datagram-driver.js'

class World {
  readonly clock = new ManualClock()
  readonly lns: L2tpLnsListener
  readonly events: ListenerEvent[] = []
  readonly lacs: Lac[] = []
  dropToLac = 0
  constructor(opts: Partial<LnsListenerOptions> = {}) { this.lns = new L2tpLnsListener({ rng: fixedRng(7), hostName: 'gw', ...opts }) }
  flush(): void {
    for (let i = 0; i < 100; i++) {
      let moved = false
      for (const l of this.lacs) for (let dg = l.ch.pollTransmit(); dg; dg = l.ch.pollTransmit()) { this.lns.handleDatagram(this.clock.now, dg, l.ep); moved = true }
      for (let t = this.lns.pollTransmit(); t; t = this.lns.pollTransmit()) {
        moved = true
        if (this.dropToLac > 0) { this.dropToLac--; continue }
        const l = this.lacs.find((x) => x.ep.address === t.to.address && x.ep.port === t.to.port)!
        const p = decodeL2tp(t.data)
        l.ch.handleMessage(this.clock.now, p.header as ControlHeader, p.payload)
        for (let d = l.ch.pollDelivered(); d; d = l.ch.pollDelivered()) l.got.push(decodeControlBody(d.body))
      }
      for (let e = this.lns.pollEvent(); e; e = this.lns.pollEvent()) this.events.push(e)
      if (!moved) return
    }
  }
  run(ms: number): void {
    const end = this.clock.now + ms
    for (;;) {
      this.flush()
      const ts = [this.lns.nextTimeout(), ...this.lacs.map((l) => l.ch.nextTimeout())].filter((t): t is number => t !== undefined && t <= end)
      if (ts.length === 0) break
      this.clock.now = Math.max(this.clock.now, Math.min(...ts))
      this.lns.handleTimeout(this.clock.now)
      for (const l of this.lacs) l.ch.handleTimeout(this.clock.now)
    }
    this.clock.now = end
    this.flush()
  }
}

class Lac {
  readonly ch: ControlChannel
  readonly got: ControlMessage[] = []
  readonly w: World
  readonly ep: Endpoint
  readonly tunnelId: number
  constructor(w: World, ep: Endpoint, tunnelId: number) {
    this.w = w; this.ep = ep; this.tunnelId = tunnelId
    this.ch = new ControlChannel(w.clock.now, { helloInterval: 0 }); w.lacs.push(this)
  }
  send(sessionId: number, f: Partial<AvpFields> & { messageType: number }): void { this.ch.send(this.w.clock.now, sessionId, encodeControlBody(f)); this.w.flush() }
  last(): ControlMessage { return this.got[this.got.length - 1]! }
  sccrq(): void { this.send(0, { messageType: MessageType.SCCRQ, protocolVersion: PROTOCOL_VERSION, hostName: 'lac', framingCapabilities: 1, assignedTunnelId: this.tunnelId }) }
  /** Whole set-up; returns [our Tunnel ID at the LNS, our Session ID at the LNS]. */
  connect(): [number, number] {
    this.sccrq()
    const tid = this.last().fields.assignedTunnelId!
    this.ch.setPeerTunnelId(tid)
    this.send(0, { messageType: MessageType.SCCCN })
    this.send(0, { messageType: MessageType.ICRQ, assignedSessionId: 3, callSerialNumber: 1 })
    const sid = this.last().fields.assignedSessionId!
    this.send(sid, { messageType: MessageType.ICCN, txConnectSpeed: 1, framingType: 1 })
    return [tid, sid]
  }
}

test('three clients behind one NAT address with the same Assigned Tunnel ID get three tunnels; frames stay apart', () => {
  const w = new World()
  const lacs = [1701, 40000, 40001].map((port) => new Lac(w, { address: '198.18.0.1', port }, 1))
  const ids = lacs.map((l) => l.connect())
  assert.equal(new Set(ids.map(([t]) => t)).size, 3)
  assert.equal(w.lns.size, 3)
  assert.equal(w.events.filter((e) => e.event.type === 'sessionUp').length, 3)
  ids.forEach(([tid, sid], i) => w.lns.handleDatagram(w.clock.now, encodeData({ tunnelId: tid, sessionId: sid }, fromHex(`c021${i}0`)), lacs[i]!.ep))
  const frames = [w.lns.pollFrame(), w.lns.pollFrame(), w.lns.pollFrame()]
  assert.deepEqual(frames.map((f) => [f?.tunnelId, toHex(f!.frame)]), ids.map(([t], i) => [t, `c021${i}0`]))
  const out = w.lns.encodeFrame(ids[1]![0], ids[1]![1], fromHex('c021'))!
  assert.deepEqual([out.to.port, decodeL2tp(out.data).header.tunnelId, decodeL2tp(out.data).header.sessionId], [40000, 1, 3])
})

test('onFrame receives frames synchronously instead of the pollFrame queue', () => {
  const got: string[] = []
  const w = new World({ onFrame: (t, sid, f) => got.push(`${t}/${sid}/${toHex(f)}`) })
  const l = new Lac(w, { address: '198.18.0.6', port: 1701 }, 1)
  const [tid, sid] = l.connect()
  w.lns.handleDatagram(w.clock.now, encodeData({ tunnelId: tid, sessionId: sid }, fromHex('c021')), l.ep)
  assert.deepEqual(got, [`${tid}/${sid}/c021`])
  assert.equal(w.lns.pollFrame(), undefined)
})

test('§5.8 a retransmitted SCCRQ (our SCCRP was lost) reaches the same tunnel, not a new one', () => {
  const w = new World()
  const l = new Lac(w, { address: '198.18.0.2', port: 1701 }, 9)
  w.dropToLac = 1
  l.sccrq()
  assert.equal(l.got.length, 0)
  w.run(1000)
  assert.equal(w.lns.size, 1)
  assert.equal(l.got.filter((m) => m.messageType === MessageType.SCCRP).length, 1)
  const c = w.lns.tunnel(l.got[0]!.fields.assignedTunnelId!)!.channelCounters()
  // The duplicate SCCRQ is only acknowledged; the lost SCCRP comes back on the LNS's own timer (both fire at 1 s).
  assert.deepEqual([c['rx-duplicate'], c['tx-retransmit']], [1, 1])
})

test('a datagram for a tunnel from another address or port is dropped; unknown tunnels and garbage are counted', () => {
  const w = new World()
  const l = new Lac(w, { address: '198.18.0.3', port: 1701 }, 2)
  const [tid, sid] = l.connect()
  w.lns.handleDatagram(w.clock.now, encodeData({ tunnelId: tid, sessionId: sid }, fromHex('c021')), { address: '198.18.0.3', port: 1702 })
  w.lns.handleDatagram(w.clock.now, encodeData({ tunnelId: tid ^ 1, sessionId: sid }, fromHex('c021')), l.ep)
  w.lns.handleDatagram(w.clock.now, fromHex('0002'), l.ep)
  w.lns.handleDatagram(w.clock.now, encodeData({ tunnelId: 0, sessionId: 0 }, fromHex('c021')), l.ep)
  assert.deepEqual([w.lns.counters.get('rx-wrong-peer'), w.lns.counters.get('rx-unknown-tunnel'), w.lns.counters.get('malformed:l2tp.header'), w.lns.counters.get('rx-tunnel0-not-control')], [1, 1, 1, 1])
  assert.equal(w.lns.pollFrame(), undefined)
})

test('half-open tunnels per address are bounded; the admission callback refuses peers', () => {
  const w = new World({ maxHalfOpenPerAddress: 2, accept: (ep) => ep.address !== '198.18.9.9' })
  for (const id of [1, 2, 3]) new Lac(w, { address: '198.18.0.4', port: 1000 + id }, id).sccrq()
  assert.equal(w.lns.size, 2)
  assert.equal(w.lns.counters.get('sccrq-half-open-limit'), 1)
  new Lac(w, { address: '198.18.9.9', port: 1701 }, 1).sccrq()
  assert.equal(w.lns.counters.get('sccrq-refused-peer'), 1)
})

test('§5.7 a closed tunnel lingers, then is forgotten; a reconnect reusing its Assigned Tunnel ID opens a new tunnel at once', () => {
  const w = new World()
  const l = new Lac(w, { address: '198.18.0.5', port: 1701 }, 4)
  const [tid] = l.connect()
  l.send(0, { messageType: MessageType.StopCCN, assignedTunnelId: 4, resultCode: { result: 1 } })
  assert.equal(w.events[w.events.length - 1]?.event.type, 'closed')
  const again = new Lac(w, { address: '198.18.0.5', port: 1701 }, 4)
  w.lacs.splice(w.lacs.indexOf(l), 1)
  const [tid2] = again.connect()
  assert.notEqual(tid2, tid)
  assert.equal(w.lns.size, 2)
  w.run(40_000)
  assert.equal(w.lns.size, 1)
  assert.equal(w.lns.tunnel(tid), undefined)
})

test('the listener is a DatagramCore for transport/datagram-driver.ts', () => {
  const core: DatagramCore<ListenerEvent> = new L2tpLnsListener({ rng: fixedRng(), hostName: 'gw' })
  assert.equal(core.nextTimeout(), undefined)
})

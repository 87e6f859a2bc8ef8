// EspUdpPort, the virtual UDP 1701 inside transport-mode ESP (RFC 3193 §4; RFC 3948 §3.1.2 zero checksum):
// flows per peer (outer port when NAT-T), rekey takeover, flow end, the reused send buffer, and a
// fast-check model test: the cached flow lookups answer exactly as a plain map lookup per packet would.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { encodeTransportUdp } from '../../src/esp/tunnel.js'
import { EspUdpPort } from '../../src/transport/esp-udp-port.js'
import type { IpsecChild } from '../../src/transport/ike-driver.js'
import type { EspPeer } from '../../src/transport/esp-driver.js'

/** A child whose handle's peer can be replaced, as EspDriver replaces it on 'peer-moved'. */
type TestChild = IpsecChild & { handle: { peer: EspPeer } }
function child(spi: number, address: string, port?: number, mode: 'transport' | 'tunnel' = 'transport'): TestChild {
  const peer: EspPeer = port === undefined ? { address } : { address, port, behindNat: true }
  return {
    ikeSa: `sa${spi}`, peerId: undefined, mode, selectors: undefined, udpEncapsulated: port !== undefined, suite: 'aes-cbc-256/hmac-sha1-96',
    handle: { inboundSpi: spi, outboundSpi: spi + 1, peer, removed: false },
  } as TestChild
}

function setup() {
  const sent: { child: IpsecChild; bytes: Uint8Array }[] = []
  const got: { data: Uint8Array; from: Endpoint }[] = []
  const gone: Endpoint[] = []
  const port = new EspUdpPort({
    port: 1701,
    // Copy: the payload is a view of a reused buffer, valid during this call only.
    send: (c, p, nh) => { assert.equal(nh, 17); sent.push({ child: c, bytes: p.slice() }); return true },
    onFlowGone: (e) => gone.push(e),
  })
  port.onDatagram((data, from) => got.push({ data: data.slice(), from }))
  return { port, sent, got, gone }
}

const udp = (src: number, dst: number, ...data: number[]): Uint8Array => encodeTransportUdp(src, dst, Uint8Array.from(data))

test('a raw-ESP peer: its flow is address + inner port; the reply carries UDP 1701 -> its port with a zero checksum (RFC 768, RFC 3948 §3.1.2)', () => {
  const { port, sent, got } = setup()
  const c = child(0x100, '198.18.0.2')
  port.childUp(c)
  port.receive(c, 17, udp(1701, 1701, 1, 2, 3))
  assert.deepEqual(got.map((g) => [g.from, [...g.data]]), [[{ address: '198.18.0.2', port: 1701 }, [1, 2, 3]]])
  port.send(got[0]!.from, Uint8Array.of(9, 8))
  port.send({ address: '198.18.0.2', port: 1701 }, Uint8Array.of(7)) // another object, same endpoint
  assert.deepEqual(sent.map((s) => [s.child, [...s.bytes]]), [
    [c, [0x06, 0xa5, 0x06, 0xa5, 0, 10, 0, 0, 9, 8]],
    [c, [0x06, 0xa5, 0x06, 0xa5, 0, 9, 0, 0, 7]],
  ])
  assert.equal(port.counters.snapshot()['tx'], 2)
})

test('the send buffer is reused: every datagram is right at the time of its call, long ones too', () => {
  const { port, sent } = setup()
  const c = child(0x100, '198.18.0.2')
  const to = port.open(c, 1701)
  const long = new Uint8Array(5000).fill(0x33)
  port.send(to, Uint8Array.of(1, 1, 1, 1))
  port.send(to, long)
  port.send(to, Uint8Array.of(2))
  assert.deepEqual([...sent[0]!.bytes.subarray(8)], [1, 1, 1, 1])
  assert.equal(sent[1]!.bytes.length, 5008)
  assert.ok(sent[1]!.bytes.subarray(8).every((b) => b === 0x33))
  assert.deepEqual([...sent[2]!.bytes], [0x06, 0xa5, 0x06, 0xa5, 0, 9, 0, 0, 2])
})

test('NAT-T peers behind one address are told apart by their outer port; a moved NAT binding keeps its flow, replies follow the move', () => {
  const { port, got, sent } = setup()
  const a = child(0x100, '198.18.9.1', 40000), b = child(0x200, '198.18.9.1', 40001)
  port.childUp(a); port.childUp(b)
  port.receive(a, 17, udp(1701, 1701, 1))
  port.receive(b, 17, udp(1701, 1701, 2))
  port.receive(a, 17, udp(1701, 1701, 3))
  assert.deepEqual(got.map((g) => g.from.port), [40000, 40001, 40000])
  // The NAT rebinds a to 41000 (EspDriver moved the SA, RFC 3948 §3.2): the L2TP core still sees 40000, found by
  // e2e/l2tp-ipsec-nat (its listener counted rx-wrong-peer and the session died when this was a new flow).
  a.handle.peer = { address: '198.18.9.1', port: 41000, behindNat: true }
  port.receive(a, 17, udp(1701, 1701, 4))
  assert.deepEqual(got[3]!.from, { address: '198.18.9.1', port: 40000 })
  port.send(got[3]!.from, Uint8Array.of(5))
  assert.equal(sent.at(-1)!.child, a, 'the reply goes into a, whose handle now names 41000')
  // A new client the NAT puts on the port a left is not handed a's flow, nor does it get a's Endpoint.
  const c = child(0x300, '198.18.9.1', 40000)
  port.childUp(c)
  port.receive(c, 17, udp(1701, 1701, 6))
  assert.equal(got.length, 4)
  assert.equal(port.counters.snapshot()['drop:flow-clash'], 1)
  port.send(got[3]!.from, Uint8Array.of(7))
  assert.equal(sent.at(-1)!.child, a)
})

test('a rekey after the NAT moved the old SA: the new SA (at the new port) takes over the flow that keeps the first port', () => {
  const { port, got, sent } = setup()
  const old = child(0x100, '198.18.9.1', 40000)
  port.childUp(old)
  port.receive(old, 17, udp(1701, 1701, 1))
  old.handle.peer = { address: '198.18.9.1', port: 41000, behindNat: true }
  const next = child(0x200, '198.18.9.1', 41000)
  port.childUp(next)
  port.receive(next, 17, udp(1701, 1701, 2))
  assert.deepEqual(got.map((g) => g.from), [{ address: '198.18.9.1', port: 40000 }, { address: '198.18.9.1', port: 40000 }])
  port.send(got[1]!.from, Uint8Array.of(3))
  assert.equal(sent.at(-1)!.child, next)
  port.childDown(old)
  port.send(got[1]!.from, Uint8Array.of(4))
  assert.equal(sent.at(-1)!.child, next, 'the flow outlives the old SA')
})

test('rekey: the new child of the same peer takes the flow over (same Endpoint to L2TP); the old one going down ends nothing', () => {
  const { port, sent, got, gone } = setup()
  const old = child(0x100, '198.18.0.2'), next = child(0x300, '198.18.0.2')
  port.childUp(old)
  port.receive(old, 17, udp(1701, 1701, 1))
  const peer = got[0]!.from
  port.send(peer, Uint8Array.of(1))
  port.childUp(next)
  port.send(peer, Uint8Array.of(2))
  port.receive(next, 17, udp(1701, 1701, 3))
  port.childDown(old)
  port.send(peer, Uint8Array.of(4))
  assert.deepEqual(sent.map((s) => s.child.handle.inboundSpi), [0x100, 0x300, 0x300])
  assert.equal(got[1]!.from, peer, 'the L2TP core sees the same peer')
  assert.deepEqual(gone, [])
})

test('rekey overlap: a datagram still arriving on the old live child moves the flow back to it, and the next on the new child forward again', () => {
  const { port, sent, got } = setup()
  const old = child(0x100, '198.18.0.2'), next = child(0x300, '198.18.0.2')
  port.childUp(old)
  port.receive(old, 17, udp(1701, 1701, 1))
  const peer = got[0]!.from
  port.childUp(next)
  port.send(peer, Uint8Array.of(1))
  port.receive(old, 17, udp(1701, 1701, 2))
  port.send(peer, Uint8Array.of(2))
  port.receive(next, 17, udp(1701, 1701, 3))
  port.send(peer, Uint8Array.of(3))
  assert.deepEqual(sent.map((s) => s.child.handle.inboundSpi), [0x300, 0x100, 0x300])
})

test('the last child of a flow going down ends the flow: onFlowGone, then has() is false and sends are counted drops', () => {
  const { port, sent, gone } = setup()
  const c = child(0x100, '198.18.0.2')
  const to = port.open(c, 1701)
  port.send(to, Uint8Array.of(1))
  assert.ok(port.has(to))
  port.childDown(c)
  assert.deepEqual(gone, [to])
  assert.equal(port.has(to), false)
  assert.equal(port.childOf(to), undefined)
  port.send(to, Uint8Array.of(2))
  assert.equal(sent.length, 1)
  assert.equal(port.counters.snapshot()['tx:drop:no-flow'], 1)
})

test('not UDP, a tunnel-mode child, a short UDP header or another port: counted drops, nothing delivered', () => {
  const { port, got } = setup()
  const c = child(0x100, '198.18.0.2'), t = child(0x200, '198.18.0.3', undefined, 'tunnel')
  port.childUp(c)
  port.receive(c, 6, udp(1701, 1701, 1))
  port.receive(t, 17, udp(1701, 1701, 1))
  port.receive(c, 17, Uint8Array.of(6, 0xa5, 6))
  port.receive(c, 17, udp(1701, 1702, 1))
  assert.equal(got.length, 0)
  const k = port.counters.snapshot()
  assert.equal(k['drop:not-udp'], 2)
  assert.equal(k['drop:udp.header'], 1)
  assert.equal(k['drop:wrong-port'], 1)
})

/**
 * The reference: the flow table looked up by its string key on every packet (no cache), written
 * independently of the port. The port under test must deliver, send and end flows exactly as it does.
 */
class ModelPort {
  readonly flows = new Map<string, { endpoint: Endpoint; innerPort: number; child: IpsecChild }>()
  readonly live = new Set<IpsecChild>()
  readonly out: string[] = []
  /** Where each child was first seen ("address:port"); a rekeying child inherits its predecessor's. */
  private readonly first = new Map<IpsecChild, string>()
  private static key(e: Endpoint): string { return `${e.address}:${e.port}` }
  private firstOf(c: IpsecChild): string {
    if (!this.first.has(c)) this.first.set(c, `${c.handle.peer.address}:${c.handle.peer.port ?? ''}#${this.first.size}`)
    return this.first.get(c)!
  }
  private ep(c: IpsecChild, inner: number): Endpoint {
    const [address, rest] = this.firstOf(c).split(':') as [string, string]
    const port = rest.split('#')[0]!
    return { address, port: c.udpEncapsulated && port !== '' ? Number(port) : inner }
  }
  private static here(a: IpsecChild, b: IpsecChild): boolean {
    return a.handle.peer.address === b.handle.peer.address && a.handle.peer.port === b.handle.peer.port
  }
  private same(a: IpsecChild, b: IpsecChild): boolean {
    return a !== b && a.mode === b.mode && (ModelPort.here(a, b) || this.firstOf(a) === this.firstOf(b))
  }
  childUp(c: IpsecChild): void {
    const heir = [...this.live].find((x) => x !== c && x.mode === c.mode && ModelPort.here(x, c))
    if (heir && !this.first.has(c)) this.first.set(c, this.firstOf(heir))
    this.live.add(c)
    for (const f of this.flows.values()) if (this.same(f.child, c)) f.child = c
  }
  childDown(c: IpsecChild): void {
    if (!this.live.delete(c)) return
    for (const [k, f] of [...this.flows]) {
      if (f.child !== c) continue
      const next = [...this.live].find((x) => this.same(x, c))
      if (next) { f.child = next; continue }
      this.flows.delete(k)
      this.out.push(`gone ${ModelPort.key(f.endpoint)}`)
    }
  }
  receive(c: IpsecChild, src: number, tag: number): void {
    const endpoint = this.ep(c, src)
    let f = this.flows.get(ModelPort.key(endpoint))
    if (!f) { f = { endpoint, innerPort: src, child: c }; this.flows.set(ModelPort.key(endpoint), f) }
    else if (f.child !== c && !this.same(f.child, c)) { this.out.push(`clash ${tag}`); return }
    else if (f.child !== c && this.live.has(c)) f.child = c
    this.out.push(`rx ${tag} from ${ModelPort.key(f.endpoint)}`)
  }
  send(to: Endpoint, tag: number): void {
    const f = this.flows.get(ModelPort.key(to))
    this.out.push(f ? `tx ${tag} via ${f.child.handle.inboundSpi} to ${f.innerPort}` : `tx ${tag} no-flow`)
  }
}

test('property: with the per-packet caches, deliveries, sends (child and inner port) and flow ends match the uncached model', () => {
  const op = fc.oneof(
    { weight: 3, arbitrary: fc.record({ k: fc.constant('rx' as const), c: fc.nat(3), src: fc.constantFrom(1701, 1702) }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('tx' as const), e: fc.nat(3), fresh: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('up' as const), c: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('down' as const), c: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('move' as const), c: fc.constantFrom(2, 3), port: fc.constantFrom(40001, 40002) }) },
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    // Children 0/1: one raw peer (a rekey pair); 2/3: NAT-T, sharing the NAT's address.
    const cs = [child(0x10, '198.18.0.2'), child(0x20, '198.18.0.2'), child(0x30, '198.18.9.1', 40000), child(0x40, '198.18.9.1', 40001)]
    const model = new ModelPort()
    const out: string[] = []
    const seen: Endpoint[] = []
    const port = new EspUdpPort({
      port: 1701,
      send: (c, p) => { out.push(`tx ${p[8]} via ${c.handle.inboundSpi} to ${(p[2]! << 8) | p[3]!}`); return true },
      onFlowGone: (e) => out.push(`gone ${e.address}:${e.port}`),
    })
    port.onDatagram((d, from) => { out.push(`rx ${d[0]} from ${from.address}:${from.port}`); seen.push(from) })
    let tag = 0
    for (const o of ops) {
      tag = (tag + 1) & 0xff
      switch (o.k) {
        case 'rx': {
          const before = port.counters.snapshot()['drop:flow-clash'] ?? 0
          port.receive(cs[o.c]!, 17, udp(o.src, 1701, tag))
          if ((port.counters.snapshot()['drop:flow-clash'] ?? 0) > before) out.push(`clash ${tag}`)
          model.receive(cs[o.c]!, o.src, tag)
          break
        }
        case 'tx': {
          const e = seen[seen.length - 1 - (o.e % Math.max(1, seen.length))] // mostly recent ones: the cached endpoint
          if (!e) break
          const to = o.fresh ? { address: e.address, port: e.port } : e // the L2TP core's object, or an equal one
          const before = port.counters.snapshot()['tx:drop:no-flow'] ?? 0
          port.send(to, Uint8Array.of(tag))
          if ((port.counters.snapshot()['tx:drop:no-flow'] ?? 0) > before) out.push(`tx ${tag} no-flow`)
          model.send(to, tag)
          assert.equal(port.has(to), model.flows.has(`${to.address}:${to.port}`))
          break
        }
        case 'up': port.childUp(cs[o.c]!); model.childUp(cs[o.c]!); break
        case 'down': port.childDown(cs[o.c]!); model.childDown(cs[o.c]!); break
        case 'move': { const c = cs[o.c]!; if (c.udpEncapsulated) c.handle.peer = { address: c.handle.peer.address, port: o.port, behindNat: true }; break }
      }
    }
    assert.deepEqual(out, model.out)
  }), { numRuns: 2000 })
})

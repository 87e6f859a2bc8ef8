// In-memory pair of PptpDataCalls (RFC 2637 §4 GRE carrying PPP with MPPE) for tests: real server and
// client PppSessions, a ManualClock, and a wire per direction that can lose and reorder GRE packets.
import { PptpDataCall } from '../../src/pptp/data-call.js'
import { GreCall } from '../../src/pptp/gre/call.js'
import { decodeGre } from '../../src/pptp/gre/packet.js'
import { PppSession } from '../../src/ppp/session.js'
import { decodeFrame } from '../../src/ppp/frame.js'
import { DEFAULT_MPPE_POLICY, type MppePolicy } from '../../src/ppp/ccp/policy.js'
import type { PppEvent } from '../../src/ppp/types.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'
import { USERS, verify } from '../ppp/pair-harness.js'
export const CLIENT_MPPE: MppePolicy = { required: true, keyBits: [128], stateless: 'allowed' }
export const SERVER_CALL_ID = 0x4001
export const CLIENT_CALL_ID = 0x0bad

/** mulberry32: a deterministic stream in [0, 1) for the wire's loss and reordering decisions. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One direction of the wire: drops `loss` of the packets, holds `reorder` of them back behind 1-3 later ones. */
export class Wire {
  loss = 0
  reorder = 0
  readonly log: Uint8Array[] = []
  dropped = 0
  swapped = 0
  private readonly rand: () => number
  private held: { packet: Uint8Array; after: number }[] = []

  constructor(seed: number) { this.rand = prng(seed) }

  /** What reaches the far side now, in arrival order. */
  carry(packet: Uint8Array): Uint8Array[] {
    this.log.push(packet.slice())
    const out: Uint8Array[] = []
    if (this.rand() < this.loss) this.dropped++
    else if (this.rand() < this.reorder) { this.held.push({ packet, after: 1 + Math.floor(this.rand() * 3) }); this.swapped++; return out }
    else out.push(packet)
    for (const h of this.held) h.after--
    out.push(...this.held.filter((h) => h.after <= 0).map((h) => h.packet))
    this.held = this.held.filter((h) => h.after > 0)
    return out
  }

  /** Packets still held arrive (late) when the sender goes quiet. */
  flush(): Uint8Array[] { const out = this.held.map((h) => h.packet); this.held = []; return out }
}

export interface PairOptions { password?: string; clientMppe?: MppePolicy; seed?: number }

/** Server (PAC) and client (PNS) data calls wired through two Wires; AAA answers as the gateway does. */
export class CallPair {
  readonly clock = new ManualClock()
  readonly server: PptpDataCall
  readonly client: PptpDataCall
  readonly serverEvents: PppEvent[] = []
  readonly clientEvents: PppEvent[] = []
  /** IPv4 packets received, copied (the events' views are only valid until the next input). */
  readonly serverIp: Uint8Array[] = []
  readonly clientIp: Uint8Array[] = []
  readonly toServer: Wire
  readonly toClient: Wire

  constructor(o: PairOptions = {}) {
    const seed = o.seed ?? 7
    this.toServer = new Wire(seed)
    this.toClient = new Wire(seed * 31 + 1)
    const now = this.clock.now
    const sp = new PppSession({ role: 'server', rng: fixedRng(0x1111), authMethods: ['mschapv2'], authName: 'gatehouse', localAddress: '198.19.0.1', dns: ['198.19.0.53'], mppe: DEFAULT_MPPE_POLICY }, now)
    const cp = new PppSession({ role: 'client', rng: fixedRng(0x2222), user: 'alice', password: o.password ?? USERS.alice!, mppe: o.clientMppe ?? CLIENT_MPPE }, now)
    // Each side's GreCall knows its own Call ID and the peer's, from Outgoing-Call-Request/Reply (§2.7/§2.8).
    this.server = new PptpDataCall(new GreCall({ localCallId: SERVER_CALL_ID, peerCallId: CLIENT_CALL_ID, peerReceiveWindow: 64 }), sp)
    this.client = new PptpDataCall(new GreCall({ localCallId: CLIENT_CALL_ID, peerCallId: SERVER_CALL_ID, peerReceiveWindow: 64 }), cp)
  }

  open(): void {
    this.server.open(this.clock.now)
    this.client.open(this.clock.now)
    this.pump()
  }

  /** Moves GRE packets and events until both sides are quiet at the current time. */
  pump(): void {
    for (let i = 0; i < 100_000; i++) {
      let moved = false
      for (let d = this.server.pollDatagram(); d; d = this.server.pollDatagram()) { moved = true; this.deliver(this.client, this.toClient.carry(d)) }
      for (let d = this.client.pollDatagram(); d; d = this.client.pollDatagram()) { moved = true; this.deliver(this.server, this.toServer.carry(d)) }
      for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) {
        moved = true
        this.record(e, this.serverEvents, this.serverIp)
        // As the gateway does (pptp-listener): the verdict goes straight to the PPP session.
        if (e.type === 'authRequest') this.server.ppp.handleAuthResult(this.clock.now, verify(e.proof))
      }
      for (let e = this.client.pollEvent(); e; e = this.client.pollEvent()) { moved = true; this.record(e, this.clientEvents, this.clientIp) }
      if (!moved) {
        const late = [this.toClient.flush(), this.toServer.flush()] as const
        if (late[0].length === 0 && late[1].length === 0) return
        this.deliver(this.client, late[0])
        this.deliver(this.server, late[1])
      }
    }
    throw new Error('pair did not settle')
  }

  /** Fires timers (GRE ack delay and reorder gaps, PPP restart/echo/Reset-Request) until `ms` from now. */
  run(ms: number): void {
    const end = this.clock.now + ms
    this.pump()
    for (let i = 0; i < 100_000; i++) {
      const ts = [this.server.nextTimeout(), this.client.nextTimeout()].filter((x): x is number => x !== undefined)
      if (ts.length === 0 || Math.min(...ts) > end) break
      this.clock.now = Math.max(this.clock.now, Math.min(...ts))
      this.server.handleTimeout(this.clock.now)
      this.client.handleTimeout(this.clock.now)
      this.pump()
    }
    this.clock.now = Math.max(this.clock.now, end)
  }

  up(): boolean { return this.has('server', 'up') && this.has('client', 'up') }
  has(side: 'server' | 'client', type: PppEvent['type']): boolean { return this.events(side).some((e) => e.type === type) }
  down(side: 'server' | 'client'): PppEvent | undefined { return this.events(side).find((e) => e.type === 'down') }
  events(side: 'server' | 'client'): PppEvent[] { return side === 'server' ? this.serverEvents : this.clientEvents }

  private deliver(to: PptpDataCall, packets: readonly Uint8Array[]): void {
    if (packets.length === 0) return
    for (const p of packets) to.gre.handlePacket(this.clock.now, p)
    to.afterReceive(this.clock.now)
  }

  private record(e: PppEvent, into: PppEvent[], ips: Uint8Array[]): void {
    if (e.type === 'ip') { ips.push(e.packet.slice()); into.push({ type: 'ip', packet: ips[ips.length - 1]! }); return }
    into.push(e)
  }
}

/** An IPv4/UDP packet whose payload names its direction and index, padded to `size` bytes. */
export function ipPacket(from: string, to: string, index: number, size = 120): Uint8Array {
  const p = new Uint8Array(size)
  const v = new DataView(p.buffer)
  p[0] = 0x45; v.setUint16(2, size); p[8] = 64; p[9] = 17
  p.set(from.split('.').map(Number), 12); p.set(to.split('.').map(Number), 16)
  v.setUint16(20, 4000); v.setUint16(22, 5000); v.setUint16(24, size - 20)
  v.setUint32(28, index)
  for (let i = 32; i < size; i++) p[i] = (index * 7 + i) & 0xff
  return p
}
export const up = (i: number): Uint8Array => ipPacket('198.19.0.10', '10.1.2.3', i)
export const down = (i: number): Uint8Array => ipPacket('10.1.2.3', '198.19.0.10', i)
export const indexOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset).getUint32(28)

/** PPP protocol numbers of the data packets in a GRE log (ack-only packets carry none). */
export function protocols(log: readonly Uint8Array[]): number[] {
  return log.flatMap((g) => { const p = decodeGre(g); return p.payload.length ? [decodeFrame(p.payload).protocol] : [] })
}


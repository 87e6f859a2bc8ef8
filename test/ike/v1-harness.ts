// In-memory harness for IKEv1 endpoint pair tests: two IkeV1Endpoints, a manual clock, a datagram pump
// with per-datagram fate (deliver, drop, duplicate) and an optional NAT in front of the initiator.
import { utf8 } from '../../src/lib/bytes.js'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { IkeV1Endpoint } from '../../src/ike/v1/endpoint.js'
import type { ChildSaRequest, IkeV1Event, IkeV1EndpointOptions } from '../../src/ike/v1/endpoint.js'
import { hostSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'

export const I_ADDR = '198.18.0.1', R_ADDR = '198.18.0.2'
/** With `nat`, the initiator's own address; the NAT maps it to I_ADDR:40000 (IKE 500) and I_ADDR:40001 (4500). */
export const I_PRIVATE = '198.18.100.2'
export type ChildUp = Extract<IkeV1Event, { type: 'childSaUp' }>
export type Fate = (n: number, from: 'i' | 'r') => 'ok' | 'drop' | 'dup'

export interface PairOptions {
  readonly iPsk?: string
  readonly rPsk?: string
  readonly seed?: number
  readonly nat?: boolean
  readonly extra?: Partial<IkeV1EndpointOptions>
  readonly iExtra?: Partial<IkeV1EndpointOptions>
  readonly rExtra?: Partial<IkeV1EndpointOptions>
}

export function pair(opts: PairOptions = {}) {
  const clock = new ManualClock()
  const seed = opts.seed ?? 1
  const iLocal = opts.nat ? I_PRIVATE : I_ADDR
  const i = new IkeV1Endpoint({ local: { address: iLocal, port: 500 }, rng: fixedRng(seed * 2 + 1), psk: () => utf8(opts.iPsk ?? 'shared secret'), ...opts.extra, ...opts.iExtra })
  const r = new IkeV1Endpoint({ local: { address: R_ADDR, port: 500 }, rng: fixedRng(seed * 2 + 2), psk: (p) => (p.address === I_ADDR ? utf8(opts.rPsk ?? 'shared secret') : undefined), ...opts.extra, ...opts.rExtra })
  const events = { i: [] as IkeV1Event[], r: [] as IkeV1Event[] }
  const log: { from: 'i' | 'r'; to: Endpoint; data: Uint8Array }[] = []
  // The address a datagram appears to come from at the other end (through the NAT when there is one).
  const seenFrom = (name: 'i' | 'r', to: Endpoint): Endpoint => {
    const float = to.port === 4500 || to.port === 40001
    if (name === 'i') return opts.nat ? { address: I_ADDR, port: float ? 40001 : 40000 } : { address: I_ADDR, port: float ? 4500 : 500 }
    return { address: R_ADDR, port: float ? 4500 : 500 }
  }
  /** Moves datagrams both ways until quiet; `fate(n)` decides per datagram: deliver, drop or duplicate. */
  const pump = (fate: Fate = () => 'ok') => {
    for (let guard = 0; guard < 1000; guard++) {
      let moved = false
      for (const [src, dst, name] of [[i, r, 'i'], [r, i, 'r']] as const) {
        for (let t = src.pollTransmit(); t; t = src.pollTransmit()) {
          moved = true
          const n = log.length
          log.push({ from: name, to: t.to, data: t.data })
          const f = fate(n, name)
          if (f === 'drop') continue
          const from = seenFrom(name, t.to)
          dst.handleDatagram(clock.now, t.data, from)
          if (f === 'dup') dst.handleDatagram(clock.now, t.data, from)
        }
      }
      for (let e = i.pollEvent(); e; e = i.pollEvent()) events.i.push(e)
      for (let e = r.pollEvent(); e; e = r.pollEvent()) events.r.push(e)
      if (!moved) return
    }
    throw new Error('pump did not settle')
  }
  /** Runs timers forward until both sides are quiet and no deadline is left (bounded). */
  const settle = (fate?: Fate) => {
    pump(fate)
    for (let k = 0; k < 50; k++) {
      const d = [i.nextTimeout(), r.nextTimeout()].filter((x): x is number => x !== undefined)
      if (d.length === 0) return
      clock.now = Math.max(clock.now, Math.min(...d))
      i.handleTimeout(clock.now); r.handleTimeout(clock.now)
      pump(fate)
    }
  }
  /** L2TP/IPsec as Windows proposes it: each host, UDP port 1701, transport mode. */
  const l2tpChild: ChildSaRequest = {
    mode: 'transport',
    selectors: { local: hostSelector(addressBytes(iLocal), 17, 1701), remote: hostSelector(addressBytes(R_ADDR), 17, 1701) },
  }
  const connect = (child: ChildSaRequest = l2tpChild) => i.connect(clock.now, { address: R_ADDR, port: 500 }, child)
  return { clock, i, r, events, log, pump, settle, connect }
}

export const childOf = (evs: readonly IkeV1Event[]): ChildUp[] => evs.filter((e): e is ChildUp => e.type === 'childSaUp')

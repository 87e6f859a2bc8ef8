// IPCP as an FsmStrategy: RFC 1332 (IP-Address; IP-Compression-Protocol is rejected: VJ compression
// is not supported) and RFC 1877 DNS/NBNS. Server assigns the peer's address and pushes DNS/NBNS;
// client asks for 0.0.0.0 and takes what the server Naks back.
import type { Millis } from '../../lib/time.js'
import type { ConfigureVerdict, FsmStrategy } from '../fsm/fsm.js'
import { type PppOption, copyOption, optionLengthOk } from '../fsm/packet.js'
import { IPCP_OPTIONS, IpcpOption, addressOption, formatIpv4, optionAddress, parseIpv4 } from './options.js'

export interface IpcpHooks {
  up(now: Millis): void
  down(now: Millis): void
  started(now: Millis): void
  finished(now: Millis): void
}

export interface IpcpServerConfig {
  readonly role: 'server'
  readonly localAddress: string
  readonly dns: readonly string[]
  readonly wins: readonly string[]
  /** The address to give the peer (from the auth verdict), read when the peer's request arrives. */
  readonly peerAddress: () => string | undefined
}
export interface IpcpClientConfig { readonly role: 'client' }
export type IpcpConfig = IpcpServerConfig | IpcpClientConfig

// Option type -> index into dns/wins arrays (server) and the client's wanted list.
const NAME_SERVERS: readonly (readonly [number, 'dns' | 'wins', number])[] = [
  [IpcpOption.PrimaryDns, 'dns', 0], [IpcpOption.SecondaryDns, 'dns', 1],
  [IpcpOption.PrimaryNbns, 'wins', 0], [IpcpOption.SecondaryNbns, 'wins', 1],
]

function toU32List(list: readonly string[]): (number | undefined)[] { return list.slice(0, 2).map(parseIpv4) }

/**
 * IPCP's side of the automaton. After tlu: localAddress/peerAddress (u32) and dns/wins (dotted).
 * Sets `failure` ('no-address') when the server has no address to give or the client gets none.
 */
export class IpcpStrategy implements FsmStrategy {
  readonly name = 'IPCP'
  private readonly cfg: IpcpConfig
  private readonly hooks: IpcpHooks
  /** Options we request, by type, with their current values (ordered as first requested). */
  private readonly want = new Map<number, number>()
  private readonly dnsU32: (number | undefined)[]
  private readonly winsU32: (number | undefined)[]
  /** Agreed values: ours (Acked by the peer) and the peer's (Acked by us). */
  localAddress = 0
  peerAddress = 0
  /** Name servers: client = the server's values we were Acked; server = what the peer accepted. */
  dns: string[] = []
  wins: string[] = []
  failure: string | undefined

  constructor(cfg: IpcpConfig, hooks: IpcpHooks) {
    this.cfg = cfg
    this.hooks = hooks
    if (cfg.role === 'server') {
      const a = parseIpv4(cfg.localAddress)
      if (a !== undefined) this.want.set(IpcpOption.IpAddress, a)
      this.dnsU32 = toU32List(cfg.dns)
      this.winsU32 = toU32List(cfg.wins)
    } else {
      // RFC 1877 §1: a value of 0.0.0.0 asks the peer to Nak with its own value.
      for (const t of [IpcpOption.IpAddress, IpcpOption.PrimaryDns, IpcpOption.SecondaryDns, IpcpOption.PrimaryNbns, IpcpOption.SecondaryNbns]) this.want.set(t, 0)
      this.dnsU32 = []
      this.winsU32 = []
    }
  }

  buildRequest(): readonly PppOption[] {
    return [...this.want].map(([t, v]) => addressOption(t, v))
  }

  processRequest(options: readonly PppOption[]): ConfigureVerdict {
    const rej: PppOption[] = []
    const nak: PppOption[] = []
    let peer: number | undefined
    const agreed = new Map<number, number>()
    for (const o of options) {
      if (!optionLengthOk(IPCP_OPTIONS, o)) { rej.push(copyOption(o)); continue }
      const v = optionAddress(o)
      if (o.type === IpcpOption.IpAddress) {
        if (this.cfg.role === 'server') {
          const assigned = parseIpv4(this.cfg.peerAddress() ?? '')
          if (assigned === undefined) { this.failure = 'no-address'; rej.push(copyOption(o)); continue }
          // RFC 1332 §3.3: Nak 0.0.0.0 (or an address we will not give) with the one we assign.
          if (v !== assigned) nak.push(addressOption(IpcpOption.IpAddress, assigned)); else peer = v
        } else {
          // The server's own address: anything but 0.0.0.0 is Acked; we have nothing to suggest.
          if (v === 0) rej.push(copyOption(o)); else peer = v
        }
        continue
      }
      // DNS/NBNS: only a server hands them out; Reject when not configured (RFC 1877 §1.1).
      const ns = NAME_SERVERS.find((n) => n[0] === o.type)
      const configured = ns && this.cfg.role === 'server' ? (ns[1] === 'dns' ? this.dnsU32 : this.winsU32)[ns[2]] : undefined
      if (configured === undefined) { rej.push(copyOption(o)); continue }
      if (v !== configured) nak.push(addressOption(o.type, configured)); else agreed.set(o.type, v)
    }
    // A server insists on assigning the address: hint it when the peer did not ask (RFC 1661 §5.3
    // lets a Nak carry options not in the request).
    if (this.cfg.role === 'server' && peer === undefined && !options.some((o) => o.type === IpcpOption.IpAddress)) {
      const assigned = parseIpv4(this.cfg.peerAddress() ?? '')
      if (assigned !== undefined && rej.length === 0) nak.push(addressOption(IpcpOption.IpAddress, assigned))
    }
    if (rej.length > 0) return { kind: 'reject', options: rej }
    if (nak.length > 0) return { kind: 'nak', options: nak }
    this.peerAddress = peer ?? 0
    if (this.cfg.role === 'server') this.setNameServers(agreed)
    return { kind: 'ack' }
  }

  private setNameServers(m: ReadonlyMap<number, number>): void {
    const pick = (a: number, b: number): string[] => [m.get(a), m.get(b)].filter((x): x is number => x !== undefined && x !== 0).map(formatIpv4)
    this.dns = pick(IpcpOption.PrimaryDns, IpcpOption.SecondaryDns)
    this.wins = pick(IpcpOption.PrimaryNbns, IpcpOption.SecondaryNbns)
  }

  processAck(options: readonly PppOption[]): void {
    const m = new Map(options.map((o) => [o.type, optionAddress(o)] as const))
    this.localAddress = m.get(IpcpOption.IpAddress) ?? 0
    if (this.cfg.role === 'client') this.setNameServers(m)
  }

  processNak(options: readonly PppOption[]): boolean {
    for (const o of options) {
      if (o.data.length !== 4 || !this.want.has(o.type)) continue
      // The client takes the server's values; a server keeps its own address (it is configured).
      if (this.cfg.role === 'client') this.want.set(o.type, optionAddress(o))
    }
    return true
  }

  processReject(options: readonly PppOption[]): boolean {
    for (const o of options) {
      if (o.type === IpcpOption.IpAddress && this.cfg.role === 'client') this.failure = 'no-address'
      this.want.delete(o.type)
    }
    return true
  }

  up(now: Millis): void { this.hooks.up(now) }
  down(now: Millis): void { this.hooks.down(now) }
  started(now: Millis): void { this.hooks.started(now) }
  finished(now: Millis): void { this.hooks.finished(now) }
}

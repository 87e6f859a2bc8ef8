// The client's side of a tunnel that is up, shared by every carrier (SSTP, PPTP): a TUN device with
// the address IPCP gave us, the routes (full or split tunnel), the DNS servers the gateway pushed, and
// the teardown that undoes all of it.
import { TunDevice } from '../transport/tun.js'
import * as netcfg from '../transport/netcfg.js'
import { disableIpv6 } from '../transport/sysctl.js'
import { VpnError } from '../lib/errors.js'
import { applyDns, type DnsRestore } from './dns.js'
import { prefixContains, tryParsePrefix } from '../ip/prefix.js'

export interface ClientUp { readonly address: string; readonly gateway: string; readonly dns: readonly string[]; readonly tun: string }

export interface TunnelSetupOptions {
  /** From PPP's 'up' event. */
  readonly localAddress: string
  readonly peerAddress: string
  readonly dns: readonly string[]
  /** The gateway's outer address: in a full tunnel it keeps its current route, or the carrier would enter its own tunnel. */
  readonly outerGateway: string
  readonly tunName?: string
  readonly mtu: number
  /** Split tunnel: only these prefixes; absent or empty: full tunnel (0/1 + 128/1, more specific than any default route). */
  readonly split?: readonly string[]
  readonly setDns: boolean
  /** Packets the kernel routed into the tunnel. */
  readonly onPackets: (packets: Uint8Array[]) => void
}

export interface ClientTunnel {
  readonly info: ClientUp
  /** How the DNS servers were applied, if they were. */
  readonly dnsHow: string | undefined
  /** Hands one packet from the gateway to the kernel; false when the kernel refused it (malformed). Queued inside batch(). */
  write(packet: Uint8Array): boolean
  /**
   * Runs `fn` (the handling of one received carrier batch) with writes queued, then hands them to the
   * kernel in one call. Only for carriers whose packet views stay valid past the next input (GRE).
   */
  batch(fn: () => void): void
  /** Restores DNS, removes the pinned gateway route and closes the TUN (its routes go with it). Idempotent. */
  teardown(): void
}

export async function setUpTunnel(opts: TunnelSetupOptions): Promise<ClientTunnel> {
  // A server may Nak both DNS options with one address (pptpd with a single ms-dns): list it once.
  const o = { ...opts, dns: [...new Set(opts.dns)] }
  let tun: TunDevice | undefined
  let dns: DnsRestore | undefined
  let pinned: { prefix: string; dev: string; via?: string } | undefined
  const teardown = (): void => {
    try { dns?.restore() } catch { /* best effort */ }
    dns = undefined
    if (pinned) { const p = pinned; pinned = undefined; void netcfg.delRoute(p.prefix, p.dev, p.via ? { via: p.via } : {}).catch(() => {}) }
    tun?.close()
    tun = undefined
  }
  try {
    const full = !o.split || o.split.length === 0
    const covered = full || o.split!.some((p) => { const q = tryParsePrefix(p); return q !== undefined && prefixContains(q, o.outerGateway) })
    if (covered) {
      // Pin the route to the gateway's outer address before the tunnel routes (0/1 + 128/1, or a split
      // prefix that contains it) capture it: the carrier must never enter its own tunnel.
      const r = await netcfg.routeGet(o.outerGateway)
      if (r.via) {
        pinned = { prefix: `${o.outerGateway}/32`, dev: r.dev, via: r.via }
        await netcfg.addRoute(pinned.prefix, r.dev, { via: r.via })
      }
    }
    tun = TunDevice.open({ name: o.tunName })
    disableIpv6(tun.name)
    await netcfg.addAddress(tun.name, o.localAddress, o.peerAddress)
    await netcfg.linkUp(tun.name, o.mtu)
    for (const r of full ? ['0.0.0.0/1', '128.0.0.0/1'] : o.split!) await netcfg.addRoute(r, tun.name)
    const t = tun
    let queue: Uint8Array[] | undefined
    t.onPackets(o.onPackets)
    if (o.setDns) dns = applyDns(t.name, o.dns)
    return {
      info: { address: o.localAddress, gateway: o.peerAddress, dns: o.dns, tun: t.name },
      dnsHow: dns?.how,
      write: (p) => {
        if (queue) { queue.push(p); return true }
        try { t.write(p); return true } catch { return false }
      },
      batch: (fn) => {
        if (queue) { fn(); return }
        queue = []
        try { fn() } finally {
          const q = queue
          queue = undefined
          if (q.length > 0) try { t.writeMany(q) } catch { /* the kernel refused a malformed packet: dropped */ }
        }
      },
      teardown,
    }
  } catch (e) {
    teardown()
    throw e instanceof VpnError ? e : new VpnError('ERR_TUN', `cannot set up the tunnel interface: ${(e as Error).message}`)
  }
}

/** The progress line for a tunnel that came up. */
export function describeUp(t: ClientTunnel, split: readonly string[] | undefined): string {
  const i = t.info
  return `tunnel up on ${i.tun}: address ${i.address}, gateway ${i.gateway}, ${split?.length ? `split routes ${split.join(', ')}` : 'full tunnel'}` +
    `${i.dns.length ? `, DNS ${i.dns.join(', ')}${t.dnsHow ? ` (${t.dnsHow})` : ''}` : ''}`
}

// Checks across `ipsec.tunnels` entries (issue 4 §6) once each is well-formed: what a site-to-site tunnel
// may route, so that a typo cannot take the pool, a special range, another tunnel's or link's networks, or
// the path to the peer itself (RFC 4301 §4.4.1: the SPD must not route the IKE/ESP traffic into its own SA).
import type { GatewayConfig } from './schema.js'
import { checkRouteConflicts, normaliseRoutes, prefixesOverlap, reservedPrefixes, type StoredRoute } from '../aaa/framed-routes.js'
import { parsePrefix, prefixContains, prefixToString } from '../ip/prefix.js'
import { VpnError } from '../lib/errors.js'

/**
 * Throws VpnError ERR_CONFIG naming `ipsec.tunnels (NAME)` when: two tunnels share a name or a peer (the
 * pre-shared key and the quick mode policy are looked up by peer address); a subnet is special (loopback,
 * multicast, link-local, ...) or listed twice/nested; a remote subnet overlaps the pool, config `routes`, a
 * link's routes or another tunnel's remote subnets; a local subnet overlaps one of the same tunnel's remote
 * subnets; or a remote subnet contains the peer's own address.
 */
export function checkIpsecTunnels(config: Pick<GatewayConfig, 'pool' | 'routes' | 'links' | 'ipsecTunnels'>): void {
  const reserved = reservedPrefixes(config.pool, config.routes)
  const seen: StoredRoute[] = config.links.flatMap((l) => l.routes.map((prefix) => ({ user: `link ${l.name}`, prefix })))
  const names = new Set<string>()
  const peers = new Map<string, string>()
  for (const t of config.ipsecTunnels) {
    const where = `config ipsec.tunnels (${t.name})`
    if (names.has(t.name)) throw new VpnError('ERR_CONFIG', `${where}: the name ${t.name} is used twice; each tunnel needs its own`)
    names.add(t.name)
    const other = peers.get(t.peer)
    if (other !== undefined) throw new VpnError('ERR_CONFIG', `${where}: peer ${t.peer} is also the peer of tunnel ${other}; list all subnets of one peer in one tunnel`)
    peers.set(t.peer, t.name)
    try {
      const local = normaliseRoutes(t.localSubnets).map(parsePrefix)
      const remote = normaliseRoutes(t.remoteSubnets)
      checkRouteConflicts(`tunnel ${t.name}`, remote, seen, reserved)
      for (const r of remote) {
        const p = parsePrefix(r)
        if (prefixContains(p, t.peer)) throw new VpnError('ERR_BAD_ROUTE', `remote subnet ${r} contains the peer's own address ${t.peer}: IKE and ESP to the peer would be routed into the tunnel itself`)
        const l = local.find((x) => prefixesOverlap(x, p))
        if (l) throw new VpnError('ERR_BAD_ROUTE', `remote subnet ${r} overlaps local subnet ${prefixToString(l)}: one side of a tunnel cannot be on both ends`)
      }
      seen.push(...remote.map((prefix) => ({ user: `tunnel ${t.name}`, prefix })))
    } catch (e) {
      if (e instanceof VpnError) throw new VpnError('ERR_CONFIG', `${where}: ${e.message.replace(/router account (link|tunnel) /, '$1 ')}`)
      throw e
    }
  }
}

// Checks on the networks of router-to-router links (config `links`), at gateway start: what a link may
// route, so that a typo cannot steal the default route, the pool, or the path to the peer itself.
import type { GatewayConfig } from '../config/schema.js'
import { checkRouteConflicts, normaliseRoutes, reservedPrefixes, type StoredRoute } from '../aaa/framed-routes.js'
import { isIpv4, parsePrefix, prefixContains, tryParsePrefix } from '../ip/prefix.js'
import { VpnError } from '../lib/errors.js'

/**
 * Throws VpnError ERR_CONFIG naming the link when its routes are malformed, special (loopback,
 * multicast, the two halves of the default route, ...), overlap the pool, the config `routes` or another
 * link, or cover the peer's own outer address (the link would carry its own control connection and GRE
 * into itself). Overlap with a router account is allowed: that is the peer's account for dialling us.
 */
export function checkLinkRoutes(config: Pick<GatewayConfig, 'pool' | 'routes' | 'links'>): void {
  const reserved = reservedPrefixes(config.pool, config.routes)
  const seen: StoredRoute[] = []
  for (const link of config.links) {
    const where = `config links (${link.name})`
    try {
      const routes = normaliseRoutes(link.routes)
      checkRouteConflicts(`link ${link.name}`, routes, seen, reserved)
      if (isIpv4(link.host)) {
        for (const r of routes) {
          if (prefixContains(parsePrefix(r), link.host)) throw new VpnError('ERR_BAD_ROUTE', `${r} contains the peer's own address ${link.host}: the link would route itself into its own tunnel`)
        }
      }
      seen.push(...routes.map((prefix) => ({ user: `link ${link.name}`, prefix })))
    } catch (e) {
      if (e instanceof VpnError) throw new VpnError('ERR_CONFIG', `${where}: ${e.message.replace('router account link ', 'link ')}`)
      throw e
    }
  }
}

/** A membership test for the pool (for refusing a link whose peer hands out an address of ours). */
export function poolMembership(pool: string): (address: string) => boolean {
  const p = tryParsePrefix(pool)
  return (address) => p !== undefined && isIpv4(address) && prefixContains(p, address)
}

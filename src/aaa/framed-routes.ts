// Router accounts: the IPv4 prefixes a user routes behind its link (RADIUS Framed-Route, RFC 2865
// §5.22; RRAS calls them the demand-dial interface's static routes). Validation and storage.
import { VpnError } from '../lib/errors.js'
import { prefixToString, tryParsePrefix, type Ipv4Prefix } from '../ip/prefix.js'
import type { AaaDb } from './database.js'

/** More prefixes than this on one account is a mistake (and bounds the data plane's per-session work). */
export const MAX_ROUTES_PER_USER = 64

/**
 * Ranges that are never routed to a peer (RFC 6890 §2.2.2 special-purpose registry): a prefix
 * overlapping one of them is refused. 0.0.0.0/8 and 240.0.0.0/4 also catch the "two halves"
 * trick (0.0.0.0/1 + 128.0.0.0/1) that would take the default route without saying /0.
 */
const NEVER_ROUTED: readonly { readonly prefix: string; readonly what: string }[] = [
  { prefix: '0.0.0.0/8', what: '"this network" (RFC 6890)' },
  { prefix: '127.0.0.0/8', what: 'loopback (RFC 6890)' },
  { prefix: '169.254.0.0/16', what: 'link-local (RFC 3927)' },
  { prefix: '224.0.0.0/4', what: 'multicast (RFC 5771)' },
  { prefix: '240.0.0.0/4', what: 'reserved and limited broadcast (RFC 6890)' },
]

/** Whether two prefixes share any address (for CIDR blocks: one contains the other). */
export function prefixesOverlap(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const mask = a.length < b.length ? a.mask : b.mask
  return ((a.network & mask) >>> 0) === ((b.network & mask) >>> 0)
}

/**
 * Parses and checks one account's list: each item "a.b.c.d/n" (a bare address means /32) with
 * the host bits zero. Returns the canonical texts in the given order. Throws VpnError
 * ERR_BAD_ROUTE naming the item: malformed, host bits set (naming the canonical form), the
 * default route, a never-routed range, a duplicate or nested pair in the list, or too many.
 */
export function normaliseRoutes(items: readonly string[]): string[] {
  if (items.length > MAX_ROUTES_PER_USER) throw new VpnError('ERR_BAD_ROUTE', `at most ${MAX_ROUTES_PER_USER} routes per account, got ${items.length}`)
  const seen: Ipv4Prefix[] = []
  for (const item of items) {
    const p = tryParsePrefix(item.trim())
    if (!p) throw new VpnError('ERR_BAD_ROUTE', `not an IPv4 prefix (a.b.c.d/n): ${JSON.stringify(item)}`)
    if (p.length === 0) throw new VpnError('ERR_BAD_ROUTE', `${item}: a router account may not take the default route`)
    if (p.address !== p.network) throw new VpnError('ERR_BAD_ROUTE', `${item} has host bits set; the prefix is ${prefixToString(p)}`)
    for (const r of NEVER_ROUTED) {
      const special = tryParsePrefix(r.prefix)!
      if (prefixesOverlap(p, special)) throw new VpnError('ERR_BAD_ROUTE', `${prefixToString(p)} overlaps ${r.prefix}, ${r.what}, which is never routed to a peer`)
    }
    const twin = seen.find((s) => prefixesOverlap(s, p))
    if (twin) throw new VpnError('ERR_BAD_ROUTE', `${prefixToString(p)} overlaps ${prefixToString(twin)} in the same list; give each network once`)
    seen.push(p)
  }
  return seen.map(prefixToString)
}

/** A prefix the gateway already uses for something else, with the words that name it in a refusal. */
export interface ReservedPrefix {
  readonly prefix: string
  /** E.g. "the client address pool" or "config routes (a network behind this gateway)". */
  readonly what: string
}

/** What a router account may not claim on this gateway: the client pool and the networks in config `routes`. */
export function reservedPrefixes(pool: string, configRoutes: readonly string[]): ReservedPrefix[] {
  return [
    { prefix: pool, what: 'the client address pool (config pool)' },
    ...configRoutes.map((prefix) => ({ prefix, what: 'a network behind this gateway (config routes)' })),
  ]
}

/** One stored route: the account holding it and the canonical prefix. */
export interface StoredRoute { readonly user: string; readonly prefix: string }

/**
 * Throws VpnError ERR_ROUTE_CONFLICT when one of `routes` (canonical, from normaliseRoutes)
 * overlaps a reserved prefix or a prefix of another account in `others` (rows of `user` itself
 * are skipped, compared ignoring ASCII case as user names are). The message names the conflict.
 */
export function checkRouteConflicts(user: string, routes: readonly string[], others: readonly StoredRoute[], reserved: readonly ReservedPrefix[]): void {
  const me = user.toLowerCase()
  for (const text of routes) {
    const p = tryParsePrefix(text)!
    for (const r of reserved) {
      const q = tryParsePrefix(r.prefix)
      // A /0 "network behind the gateway" is a full-tunnel setting, not a competing network.
      if (q && q.length > 0 && prefixesOverlap(p, q)) throw new VpnError('ERR_ROUTE_CONFLICT', `${text} overlaps ${prefixToString(q)}, ${r.what}`)
    }
    for (const o of others) {
      if (o.user.toLowerCase() === me) continue
      const q = tryParsePrefix(o.prefix)
      if (q && prefixesOverlap(p, q)) throw new VpnError('ERR_ROUTE_CONFLICT', `${text} overlaps ${o.prefix} of router account ${o.user}`)
    }
  }
}

/**
 * Stored routes that overlap `reserved` now (the pool or config routes changed after the routes
 * were added), one message per conflict, for a warning at gateway start. Never throws for data.
 */
export function storedRouteConflicts(db: AaaDb, reserved: readonly ReservedPrefix[]): string[] {
  const out: string[] = []
  for (const r of loadAllRoutes(db)) {
    try { checkRouteConflicts(r.user, [r.prefix], [], reserved) } catch (e) { out.push(`router account ${r.user}: ${(e as Error).message}`) }
  }
  return out
}

/** Stored routes of one account (canonical texts, ordered by network then length). */
export function loadRoutes(db: AaaDb, user: string): string[] {
  const rows = db.prepare('SELECT prefix FROM user_routes WHERE user = ? ORDER BY network, length').all(user) as { prefix: string }[]
  return rows.map((r) => r.prefix)
}

/** Every stored route of every account. */
export function loadAllRoutes(db: AaaDb): StoredRoute[] {
  return db.prepare('SELECT user, prefix FROM user_routes ORDER BY user, network, length').all() as StoredRoute[]
}

/** Routes of every account keyed by the lower-cased name (names are unique ignoring ASCII case). */
export function routesByUser(db: AaaDb): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const r of loadAllRoutes(db)) {
    const k = r.user.toLowerCase()
    const list = out.get(k)
    if (list) list.push(r.prefix)
    else out.set(k, [r.prefix])
  }
  return out
}

/**
 * UserStore.setRoutes: in one immediate transaction (the gateway and another CLI may share the
 * file, so check and write hold the write lock together) finds the user, checks conflicts and
 * replaces its routes. Throws ERR_NO_SUCH_USER or ERR_ROUTE_CONFLICT.
 */
export function replaceUserRoutes(db: AaaDb, name: string, canonical: readonly string[], reserved: readonly ReservedPrefix[]): void {
  db.transaction(() => {
    const row = db.prepare('SELECT name FROM users WHERE name = ?').get(name) as { name: string } | undefined
    if (!row) throw new VpnError('ERR_NO_SUCH_USER', `no user ${name}`)
    checkRouteConflicts(row.name, canonical, loadAllRoutes(db), reserved)
    storeRoutes(db, row.name, canonical)
  }).immediate()
}

/** Replaces the routes of `user` (its exact stored name) by `routes` (canonical). Run inside the caller's transaction. */
export function storeRoutes(db: AaaDb, user: string, routes: readonly string[]): void {
  db.prepare('DELETE FROM user_routes WHERE user = ?').run(user)
  const ins = db.prepare('INSERT INTO user_routes (user, prefix, network, length) VALUES (?, ?, ?, ?)')
  for (const text of routes) {
    const p = tryParsePrefix(text)!
    ins.run(user, prefixToString(p), p.network, p.length)
  }
}

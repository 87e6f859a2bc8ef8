// Interface, address, route and forwarding configuration through iproute2 (`ip`, run with
// execFile — no shell) and /proc/sys. Errors name the command line and its stderr.
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { VpnError } from '../lib/errors.js'

const IP_BIN = 'ip'
const FORWARD = '/proc/sys/net/ipv4/ip_forward'

/** Interface names as Linux accepts them (IFNAMSIZ 16 incl. NUL); never an option-like '-x'. */
function checkDev(dev: string): string {
  if (!/^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/.test(dev)) throw new VpnError('ERR_NETCFG_ARG', `invalid interface name ${JSON.stringify(dev)}`)
  return dev
}
/** An IPv4 address or prefix (a.b.c.d or a.b.c.d/n), or the word 'default' when allowed. */
function checkAddr(a: string, what: string, allowDefault = false): string {
  if (allowDefault && a === 'default') return a
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(a)
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || (m[5] !== undefined && Number(m[5]) > 32)) {
    throw new VpnError('ERR_NETCFG_ARG', `invalid IPv4 ${what} ${JSON.stringify(a)}`)
  }
  return a
}

/** Runs `ip ...args`; resolves stdout, rejects VpnError ERR_NETCFG naming the command and stderr. */
export function runIp(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(IP_BIN, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim() || err.message
        reject(new VpnError('ERR_NETCFG', `\`${IP_BIN} ${args.join(' ')}\` failed: ${why}`, { cause: err }))
      } else resolve(stdout)
    })
  })
}

/** `ip link set DEV mtu MTU up`. MTU 68..65535 (RFC 791 minimum; IPv4 total-length maximum). */
export async function linkUp(dev: string, mtu: number): Promise<void> {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new VpnError('ERR_NETCFG_ARG', `invalid MTU ${mtu}`)
  await runIp(['link', 'set', 'dev', checkDev(dev), 'mtu', String(mtu), 'up'])
}

/** `ip link set DEV down`. */
export async function linkDown(dev: string): Promise<void> {
  await runIp(['link', 'set', 'dev', checkDev(dev), 'down'])
}

/**
 * Adds an address: `ip addr add LOCAL[/N] [peer PEER] dev DEV`. A point-to-point link (PPP-style,
 * RFC 1332 IPCP gives one address each way) passes the local address and the peer.
 */
export async function addAddress(dev: string, cidrOrLocal: string, peer?: string): Promise<void> {
  const args = ['addr', 'add', checkAddr(cidrOrLocal, 'address')]
  if (peer !== undefined) args.push('peer', checkAddr(peer, 'peer'))
  args.push('dev', checkDev(dev))
  await runIp(args)
}

export interface RouteOptions {
  readonly via?: string
  readonly metric?: number
  /** Routing table id or name (policy routing for split tunnels). */
  readonly table?: number | string
  readonly src?: string
  readonly mtu?: number
}

function routeArgs(prefix: string, dev: string, opts: RouteOptions): string[] {
  const args = [checkAddr(prefix, 'prefix', true), 'dev', checkDev(dev)]
  if (opts.via !== undefined) args.push('via', checkAddr(opts.via, 'gateway'))
  if (opts.src !== undefined) args.push('src', checkAddr(opts.src, 'source'))
  if (opts.metric !== undefined) args.push('metric', String(Math.trunc(opts.metric)))
  if (opts.mtu !== undefined) args.push('mtu', String(Math.trunc(opts.mtu)))
  if (opts.table !== undefined) {
    if (!/^[A-Za-z0-9_]+$/.test(String(opts.table))) throw new VpnError('ERR_NETCFG_ARG', `invalid table ${String(opts.table)}`)
    args.push('table', String(opts.table))
  }
  return args
}

/** `ip route replace PREFIX dev DEV ...` — replace, so a reconnect re-adding a route succeeds. */
export async function addRoute(prefix: string, dev: string, opts: RouteOptions = {}): Promise<void> {
  await runIp(['route', 'replace', ...routeArgs(prefix, dev, opts)])
}

/**
 * `ip route add PREFIX dev DEV ...`: fails (ERR_NETCFG, "File exists") when the kernel already has a
 * route to exactly PREFIX — for routes a peer asks for, which must never replace one of the host's own
 * (a connected LAN that happens to equal a router account's network).
 */
export async function addRouteExclusive(prefix: string, dev: string, opts: RouteOptions = {}): Promise<void> {
  await runIp(['route', 'add', ...routeArgs(prefix, dev, opts)])
}

/** `ip route del PREFIX dev DEV ...`. */
export async function delRoute(prefix: string, dev: string, opts: RouteOptions = {}): Promise<void> {
  await runIp(['route', 'del', ...routeArgs(prefix, dev, opts)])
}

/** Sets net.ipv4.ip_forward (a gateway forwards between the TUN and its uplinks). */
export async function setForwarding(enabled: boolean): Promise<void> {
  try {
    await writeFile(FORWARD, enabled ? '1\n' : '0\n')
  } catch (e) {
    throw new VpnError('ERR_NETCFG', `cannot write ${FORWARD}: ${(e as Error).message}; run as root`, { cause: e })
  }
}

/** Reads net.ipv4.ip_forward. */
export async function ipForwardingEnabled(): Promise<boolean> {
  try {
    return (await readFile(FORWARD, 'utf8')).trim() === '1'
  } catch (e) {
    throw new VpnError('ERR_NETCFG', `cannot read ${FORWARD}: ${(e as Error).message}`, { cause: e })
  }
}

/** `ip -j route get DEST`: the interface and next hop the kernel uses for DEST now (before a full tunnel takes over). */
export async function routeGet(dest: string): Promise<{ dev: string; via?: string; src?: string }> {
  const out = await runIp(['-j', 'route', 'get', checkAddr(dest, 'destination')])
  const r = (JSON.parse(out) as { dev?: string; gateway?: string; prefsrc?: string }[])[0]
  if (!r?.dev) throw new VpnError('ERR_NETCFG', `no route to ${dest}`)
  return { dev: r.dev, via: r.gateway, src: r.prefsrc }
}

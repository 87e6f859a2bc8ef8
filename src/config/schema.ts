// Gateway configuration: the typed shape and a hand-written validator that names the field path
// and the accepted values on every error (VpnError ERR_CONFIG). No schema library on purpose.
import { isIP } from 'node:net'
import { isAbsolute, resolve } from 'node:path'
import { VpnError } from '../lib/errors.js'
import { checkIpsecTunnels } from './ipsec-tunnels.js'
import { DEFAULTS, IMPLEMENTED_PROTOCOLS, IPSEC_AUTH, IPSEC_TUNNEL_DEFAULTS, LOG_LEVELS, PROTOCOLS, type IpsecAuthName, type ProtocolName } from './defaults.js'

export type LogLevelName = (typeof LOG_LEVELS)[number]

export interface LockoutPolicy { readonly maxFailures: number; readonly windowSeconds: number; readonly lockSeconds: number }
export interface PasswordPolicyConfig { readonly minLength: number; readonly minClasses: number }

/** A persistent router-to-router link this gateway dials (RRAS demand-dial, "persistent connection"). */
export interface LinkConfig {
  /** Short name: in logs, session ids and records. */
  readonly name: string
  readonly protocol: 'pptp'
  readonly host: string
  readonly port: number
  /** The router account on the peer gateway. */
  readonly user: string
  /** Absolute path of the file holding that account's password (first line). */
  readonly passwordFile: string
  /** Subnets behind the peer, routed over the link (IPv4 CIDR, host bits zero). */
  readonly routes: readonly string[]
}

/** An IPsec site-to-site tunnel (issue 4 §6, config `ipsec.tunnels`): IKEv1 tunnel-mode SAs for subnet pairs. */
export interface IpsecTunnelConfig {
  /** Short name: in logs, session ids and records. */
  readonly name: string
  /** The peer gateway's IPv4 address as this gateway sees it (PSK and policy are looked up by it). */
  readonly peer: string
  readonly auth: 'psk' | 'certificate'
  /** psk: absolute path of the file (mode 0600) holding this tunnel's own key. */
  readonly pskFile?: string
  /** certificate: absolute path of the CA that issued the peer's certificate, when not our own CA. */
  readonly caFile?: string
  /** The peer's IKE ID that must be authenticated: an IPv4 address, a DN ("CN=..,O=.."), user@fqdn or an FQDN. */
  readonly peerId?: string
  /** Networks on this side (IPv4 CIDR, host bits zero); one child SA per local/remote pair. */
  readonly localSubnets: readonly string[]
  /** Networks behind the peer, routed into the tunnel. */
  readonly remoteSubnets: readonly string[]
  /** This side starts (and restarts) the tunnel; both sides may. */
  readonly initiate: boolean
}

export interface GatewayConfig {
  /** Absolute configuration directory the paths were resolved against. */
  readonly dir: string
  readonly listen: string
  readonly protocols: readonly ProtocolName[]
  readonly sstp: { readonly port: number }
  readonly pptp: { readonly port: number; readonly mppeKeyBits: readonly (40 | 56 | 128)[] }
  /** L2TP/IPsec (RFC 3193); allowWithoutIpsec: plain L2TP on UDP `port` as well (weak). */
  readonly l2tp: { readonly port: number; readonly allowWithoutIpsec: boolean; readonly secretFile?: string }
  /** IKE phase 1 authentication of L2TP/IPsec clients; pskFile absolute. */
  readonly ipsec: { readonly auth: readonly IpsecAuthName[]; readonly pskFile: string; readonly aggressiveMode: boolean }
  /** IPv4 CIDR with host bits zero; the gateway takes the first host address. */
  readonly pool: string
  readonly dns: readonly string[]
  readonly wins: readonly string[]
  readonly routes: readonly string[]
  readonly auth: {
    readonly allowPap: boolean
    readonly allowChap: boolean
    readonly lockout: LockoutPolicy
    readonly passwordPolicy: PasswordPolicyConfig
  }
  readonly keepalive: { readonly intervalSeconds: number; readonly failures: number }
  /** mtu undefined: compute with defaultTunMtu(). */
  readonly tun: { readonly name: string; readonly mtu?: number }
  readonly forwarding: { readonly enable: boolean; readonly nat: boolean; readonly natInterface?: string }
  readonly links: readonly LinkConfig[]
  /** `ipsec.tunnels` in the file (kept out of `ipsec` so that section stays the L2TP/IPsec remote-access policy). */
  readonly ipsecTunnels: readonly IpsecTunnelConfig[]
  readonly log: { readonly level: LogLevelName }
  /** Absolute paths. */
  readonly paths: {
    readonly ca: string; readonly caKey: string; readonly serverCert: string; readonly serverKey: string
    readonly usersDb: string; readonly secretKey: string; readonly controlSocket: string
  }
}

function fail(path: string, message: string): never {
  throw new VpnError('ERR_CONFIG', `config ${path}: ${message}`)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'object') return 'a mapping'
  return String(v)
}

/** A mapping with only `keys`; null/undefined counts as an empty mapping (all defaults). */
function mapping(v: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) fail(path, `expected a mapping with keys ${keys.join(', ')}, got ${describe(v)}`)
  const rec = v as Record<string, unknown>
  for (const k of Object.keys(rec)) {
    if (!keys.includes(k)) fail(join(path, k), `unknown key (accepted keys here: ${keys.join(', ')})`)
  }
  return rec
}

function join(path: string, key: string): string { return path ? `${path}.${key}` : key }

function integer(v: unknown, path: string, min: number, max: number, def: number): number {
  if (v === undefined) return def
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `expected an integer from ${min} to ${max}, got ${describe(v)}`)
  return v
}

function boolean(v: unknown, path: string, def: boolean): boolean {
  if (v === undefined) return def
  if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`)
  return v
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[], def: T): T {
  if (v === undefined) return def
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(path, `expected one of ${values.join(', ')}, got ${describe(v)}`)
  return v as T
}

function text(v: unknown, path: string, def: string | undefined, what: string, check: (s: string) => boolean = (s) => s.length > 0): string | undefined {
  if (v === undefined) return def
  if (typeof v !== 'string' || !check(v)) fail(path, `expected ${what}, got ${describe(v)}`)
  return v
}

function list<T>(v: unknown, path: string, def: readonly T[], item: (x: unknown, p: string) => T, maxItems = 64): readonly T[] {
  if (v === undefined || v === null) return def
  if (!Array.isArray(v)) fail(path, `expected a list, got ${describe(v)}`)
  if (v.length > maxItems) fail(path, `at most ${maxItems} entries, got ${v.length}`)
  return v.map((x, i) => item(x, `${path}[${i}]`))
}

const ipv4 = (s: string): boolean => isIP(s) === 4

function ipv4ToInt(s: string): number {
  return s.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0)
}

/** True for "a.b.c.d/n" with 0 <= n <= 32 and no host bits set. */
function ipv4Cidr(s: string, minPrefix = 0, maxPrefix = 32): boolean {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s)
  if (!m || !ipv4(m[1]!)) return false
  const n = Number(m[2])
  if (n < minPrefix || n > maxPrefix) return false
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0
  return ((ipv4ToInt(m[1]!) & ~mask) >>> 0) === 0
}

// Linux interface names: at most 15 bytes, no '/', whitespace or ':'.
const ifName = (s: string): boolean => /^[A-Za-z0-9_.-]{1,15}$/.test(s)

/** Validates parsed YAML (`raw`) into a GatewayConfig (not yet frozen); `dir` must be absolute. */
export function validateConfig(raw: unknown, dir: string): GatewayConfig {
  const top = mapping(raw, '', ['listen', 'protocols', 'sstp', 'pptp', 'l2tp', 'ipsec', 'pool', 'dns', 'wins', 'routes', 'auth', 'keepalive', 'tun', 'forwarding', 'links', 'log', 'paths'])

  const listen = text(top.listen, 'listen', DEFAULTS.listen, 'an IPv4 or IPv6 address such as 0.0.0.0', (s) => isIP(s) !== 0)!

  const l2tpRaw = mapping(top.l2tp, 'l2tp', ['port', 'allowWithoutIpsec', 'secretFile'])
  const l2tpSecret = text(l2tpRaw.secretFile, 'l2tp.secretFile', undefined, 'a file path (relative to the configuration directory or absolute)', (s) => s.length > 0 && !s.includes('\0'))
  const l2tp = {
    port: integer(l2tpRaw.port, 'l2tp.port', 1, 65535, DEFAULTS.l2tp.port),
    allowWithoutIpsec: boolean(l2tpRaw.allowWithoutIpsec, 'l2tp.allowWithoutIpsec', DEFAULTS.l2tp.allowWithoutIpsec),
    ...(l2tpSecret !== undefined ? { secretFile: isAbsolute(l2tpSecret) ? l2tpSecret : resolve(dir, l2tpSecret) } : {}),
  }
  const protocols = list(top.protocols, 'protocols', DEFAULTS.protocols, (x, p) => {
    const name = oneOf<ProtocolName>(x, p, PROTOCOLS, 'sstp')
    if (!IMPLEMENTED_PROTOCOLS.includes(name)) fail(p, `${name} is not implemented yet (implemented: ${IMPLEMENTED_PROTOCOLS.join(', ')})`)
    return name
  }, PROTOCOLS.length)
  if (protocols.length === 0) fail('protocols', `expected at least one of ${IMPLEMENTED_PROTOCOLS.join(', ')}`)
  if (new Set(protocols).size !== protocols.length) fail('protocols', 'each protocol may appear once')

  const ipsecRaw = mapping(top.ipsec, 'ipsec', ['auth', 'pskFile', 'aggressiveMode', 'tunnels'])
  const ipsecAuth = list(ipsecRaw.auth, 'ipsec.auth', DEFAULTS.ipsec.auth, (x, p) => oneOf<IpsecAuthName>(x, p, IPSEC_AUTH, 'certificate'), 2)
  if (ipsecAuth.length === 0) fail('ipsec.auth', 'expected certificate, psk or both: how L2TP/IPsec clients authenticate IKE')
  if (new Set(ipsecAuth).size !== ipsecAuth.length) fail('ipsec.auth', 'each method may appear once')
  const pskFile = text(ipsecRaw.pskFile, 'ipsec.pskFile', DEFAULTS.ipsec.pskFile, 'a file path (relative to the configuration directory or absolute)', (s) => s.length > 0 && !s.includes('\0'))!
  const aggressiveMode = boolean(ipsecRaw.aggressiveMode, 'ipsec.aggressiveMode', DEFAULTS.ipsec.aggressiveMode)
  if (aggressiveMode && !ipsecAuth.includes('psk')) fail('ipsec.aggressiveMode', 'aggressive mode is for pre-shared-key clients that cannot do main mode: add psk to ipsec.auth, or leave it false')
  const ipsec = { auth: ipsecAuth, pskFile: isAbsolute(pskFile) ? pskFile : resolve(dir, pskFile), aggressiveMode }

  const sstpRaw = mapping(top.sstp, 'sstp', ['port'])
  const sstp = { port: integer(sstpRaw.port, 'sstp.port', 1, 65535, DEFAULTS.sstp.port) }

  const pptpRaw = mapping(top.pptp, 'pptp', ['port', 'mppeKeyBits'])
  const pptp = {
    port: integer(pptpRaw.port, 'pptp.port', 1, 65535, DEFAULTS.pptp.port),
    mppeKeyBits: list(pptpRaw.mppeKeyBits, 'pptp.mppeKeyBits', DEFAULTS.pptp.mppeKeyBits, (x, p) => {
      if (x !== 40 && x !== 56 && x !== 128) fail(p, `expected 40, 56 or 128 (MPPE key bits), got ${describe(x)}`)
      return x
    }, 3),
  }
  if (pptp.mppeKeyBits.length === 0) fail('pptp.mppeKeyBits', 'expected at least one of 128, 56, 40: MPPE is always required for PPTP')


  const pool = text(top.pool, 'pool', DEFAULTS.pool, 'an IPv4 CIDR from /8 to /30 with host bits zero, such as 198.19.0.0/24', (s) => ipv4Cidr(s, 8, 30))!
  const addr = (x: unknown, p: string): string => text(x, p, undefined, 'an IPv4 address', ipv4) ?? fail(p, 'expected an IPv4 address')
  const dns = list(top.dns, 'dns', DEFAULTS.dns, addr, 2) // IPCP carries a primary and a secondary (RFC 1877)
  const wins = list(top.wins, 'wins', DEFAULTS.wins, addr, 2)
  const routes = list(top.routes, 'routes', DEFAULTS.routes, (x, p) => text(x, p, undefined, 'an IPv4 CIDR with host bits zero, such as 10.0.0.0/8', (s) => ipv4Cidr(s)) ?? fail(p, 'expected an IPv4 CIDR'), 256)

  const authRaw = mapping(top.auth, 'auth', ['allowPap', 'allowChap', 'lockout', 'passwordPolicy'])
  const lockRaw = mapping(authRaw.lockout, 'auth.lockout', ['maxFailures', 'windowSeconds', 'lockSeconds'])
  const ppRaw = mapping(authRaw.passwordPolicy, 'auth.passwordPolicy', ['minLength', 'minClasses'])
  const D = DEFAULTS.auth
  const auth = {
    allowPap: boolean(authRaw.allowPap, 'auth.allowPap', D.allowPap),
    allowChap: boolean(authRaw.allowChap, 'auth.allowChap', D.allowChap),
    lockout: {
      maxFailures: integer(lockRaw.maxFailures, 'auth.lockout.maxFailures', 1, 1000, D.lockout.maxFailures),
      windowSeconds: integer(lockRaw.windowSeconds, 'auth.lockout.windowSeconds', 1, 86400 * 30, D.lockout.windowSeconds),
      lockSeconds: integer(lockRaw.lockSeconds, 'auth.lockout.lockSeconds', 1, 86400 * 30, D.lockout.lockSeconds),
    },
    passwordPolicy: {
      minLength: integer(ppRaw.minLength, 'auth.passwordPolicy.minLength', 8, 256, D.passwordPolicy.minLength),
      minClasses: integer(ppRaw.minClasses, 'auth.passwordPolicy.minClasses', 1, 4, D.passwordPolicy.minClasses),
    },
  }

  const kaRaw = mapping(top.keepalive, 'keepalive', ['intervalSeconds', 'failures'])
  const keepalive = {
    intervalSeconds: integer(kaRaw.intervalSeconds, 'keepalive.intervalSeconds', 1, 3600, DEFAULTS.keepalive.intervalSeconds),
    failures: integer(kaRaw.failures, 'keepalive.failures', 1, 100, DEFAULTS.keepalive.failures),
  }

  const tunRaw = mapping(top.tun, 'tun', ['name', 'mtu'])
  const tunName = text(tunRaw.name, 'tun.name', DEFAULTS.tun.name, 'an interface name of 1 to 15 letters, digits, "_", "." or "-"', ifName)!
  // 576 is the IPv4 minimum datagram every host must accept (RFC 791); above 1500 would fragment the carrier.
  const tunMtu = tunRaw.mtu === undefined || tunRaw.mtu === null ? undefined : integer(tunRaw.mtu, 'tun.mtu', 576, 1500, 0)
  const tun = tunMtu === undefined ? { name: tunName } : { name: tunName, mtu: tunMtu }

  const fwRaw = mapping(top.forwarding, 'forwarding', ['enable', 'nat', 'natInterface'])
  const fwEnable = boolean(fwRaw.enable, 'forwarding.enable', DEFAULTS.forwarding.enable)
  const fwNat = boolean(fwRaw.nat, 'forwarding.nat', DEFAULTS.forwarding.nat)
  const natInterface = fwRaw.natInterface === null ? undefined : text(fwRaw.natInterface, 'forwarding.natInterface', undefined, 'an interface name of 1 to 15 letters, digits, "_", "." or "-"', ifName)
  if (fwNat && !fwEnable) fail('forwarding.nat', 'NAT needs forwarding.enable: true')
  const forwarding = natInterface === undefined ? { enable: fwEnable, nat: fwNat } : { enable: fwEnable, nat: fwNat, natInterface }

  const links = list(top.links, 'links', [], (x, p) => {
    const r = mapping(x, p, ['name', 'peer', 'user', 'passwordFile', 'routes'])
    const name = text(r.name, `${p}.name`, undefined, 'a name of 1 to 32 letters, digits, "_" or "-"', (s) => /^[A-Za-z0-9_-]{1,32}$/.test(s)) ?? fail(`${p}.name`, 'required')
    const peer = text(r.peer, `${p}.peer`, undefined, 'pptp://HOST[:PORT]', (s) => /^pptp:\/\/[^/:\s]+(:\d{1,5})?\/?$/.test(s)) ?? fail(`${p}.peer`, 'required: pptp://HOST[:PORT] of the other gateway')
    const m = /^pptp:\/\/([^/:\s]+)(?::(\d{1,5}))?/.exec(peer)!
    const port = m[2] === undefined ? DEFAULTS.pptp.port : Number(m[2])
    if (port < 1 || port > 65535) fail(`${p}.peer`, `port ${port} is out of range`)
    const user = text(r.user, `${p}.user`, undefined, 'the router account name on the peer') ?? fail(`${p}.user`, 'required: the router account on the peer gateway')
    const pw = text(r.passwordFile, `${p}.passwordFile`, undefined, 'a file path') ?? fail(`${p}.passwordFile`, 'required: a file (mode 0600) holding the router account password')
    const routes = list(r.routes, `${p}.routes`, [], (y, q) => text(y, q, undefined, 'an IPv4 CIDR with host bits zero, such as 10.2.0.0/24', (s) => ipv4Cidr(s) && s !== '0.0.0.0/0') ?? fail(q, 'expected an IPv4 CIDR'), 64)
    if (routes.length === 0) fail(`${p}.routes`, 'list the subnets behind the peer gateway (at least one)')
    return { name, protocol: 'pptp' as const, host: m[1]!, port, user, passwordFile: isAbsolute(pw) ? pw : resolve(dir, pw), routes }
  }, 32)
  if (new Set(links.map((l) => l.name)).size !== links.length) fail('links', 'each link name may appear once')

  const ipsecTunnels = list(ipsecRaw.tunnels, 'ipsec.tunnels', [], (x, p) => {
    const r = mapping(x, p, ['name', 'peer', 'auth', 'pskFile', 'caFile', 'peerId', 'localSubnets', 'remoteSubnets', 'initiate'])
    const name = text(r.name, `${p}.name`, undefined, 'a name of 1 to 32 letters, digits, "_" or "-"', (s) => /^[A-Za-z0-9_-]{1,32}$/.test(s)) ?? fail(`${p}.name`, 'required')
    const peer = text(r.peer, `${p}.peer`, undefined, 'the IPv4 address of the peer gateway', ipv4) ?? fail(`${p}.peer`, 'required: the IPv4 address of the peer gateway')
    const auth = oneOf<'psk' | 'certificate'>(r.auth, `${p}.auth`, ['psk', 'certificate'], IPSEC_TUNNEL_DEFAULTS.auth)
    const path = (k: 'pskFile' | 'caFile', what: string): string | undefined => {
      const v = text(r[k], `${p}.${k}`, undefined, what, (s) => s.length > 0 && !s.includes('\0'))
      return v === undefined ? undefined : isAbsolute(v) ? v : resolve(dir, v)
    }
    const psk = path('pskFile', 'a file path holding this tunnel\'s pre-shared key')
    const ca = path('caFile', 'a CA certificate file (PEM)')
    if (auth === 'psk' && psk === undefined) fail(`${p}.pskFile`, 'required with auth: psk (a file, mode 0600, holding this tunnel\'s own key)')
    if (auth === 'certificate' && psk !== undefined) fail(`${p}.pskFile`, 'only with auth: psk')
    if (auth === 'psk' && ca !== undefined) fail(`${p}.caFile`, 'only with auth: certificate')
    const peerId = text(r.peerId, `${p}.peerId`, undefined, 'the peer\'s IKE ID (IPv4 address, DN, user@fqdn or FQDN)', (s) => s.length > 0 && s.length <= 255)
    const subnets = (k: 'localSubnets' | 'remoteSubnets', what: string): readonly string[] => {
      const v = list(r[k], `${p}.${k}`, [], (y, q) => text(y, q, undefined, 'an IPv4 CIDR with host bits zero, such as 10.2.0.0/24', (s) => ipv4Cidr(s) && s !== '0.0.0.0/0') ?? fail(q, 'expected an IPv4 CIDR'), 16)
      if (v.length === 0) fail(`${p}.${k}`, `list ${what} (at least one)`)
      return v
    }
    const localSubnets = subnets('localSubnets', 'the networks on this side')
    const remoteSubnets = subnets('remoteSubnets', 'the networks behind the peer gateway')
    const initiate = boolean(r.initiate, `${p}.initiate`, IPSEC_TUNNEL_DEFAULTS.initiate)
    return { name, peer, auth, ...(psk ? { pskFile: psk } : {}), ...(ca ? { caFile: ca } : {}), ...(peerId ? { peerId } : {}), localSubnets, remoteSubnets, initiate }
  }, 32)
  checkIpsecTunnels({ pool, routes, links, ipsecTunnels })

  const logRaw = mapping(top.log, 'log', ['level'])
  const log = { level: oneOf(logRaw.level, 'log.level', LOG_LEVELS, DEFAULTS.log.level) }

  const P = DEFAULTS.paths
  const pathsRaw = mapping(top.paths, 'paths', Object.keys(P))
  const file = (key: keyof typeof P): string => {
    const v = text(pathsRaw[key], `paths.${key}`, P[key], 'a file path (relative to the configuration directory or absolute)', (s) => s.length > 0 && !s.includes('\0'))!
    return isAbsolute(v) ? v : resolve(dir, v)
  }
  const paths = {
    ca: file('ca'), caKey: file('caKey'), serverCert: file('serverCert'), serverKey: file('serverKey'),
    usersDb: file('usersDb'), secretKey: file('secretKey'), controlSocket: file('controlSocket'),
  }

  return { dir, listen, protocols, sstp, pptp, l2tp, ipsec, pool, dns, wins, routes, auth, keepalive, tun, forwarding, links, ipsecTunnels, log, paths }
}

/** Object.freeze applied to every nested object and array. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v as object)) deepFreeze(x)
  }
  return v
}

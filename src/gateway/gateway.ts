// The gateway composition root: config -> user store and records -> pool -> TUN and data plane ->
// SSTP, PPTP and L2TP/IPsec (IKE, ESP) listeners -> control socket. Owns every resource and closes them in reverse order.
import { readFileSync } from 'node:fs'
import type { Server } from 'node:net'
import type { GatewayConfig } from '../config/schema.js'
import { defaultTunMtu } from '../config/defaults.js'
import { UserStore } from '../aaa/user-store.js'
import { SessionLog } from '../aaa/accounting.js'
import { AddressPool } from '../ip/pool.js'
import { Dataplane } from '../dataplane/dataplane.js'
import { tunnelMss, tunnelMtu } from '../dataplane/mtu.js'
import { TunDevice } from '../transport/tun.js'
import * as netcfg from '../transport/netcfg.js'
import { listenControl } from '../transport/control-socket.js'
import { disableIpv6 } from '../transport/sysctl.js'
import { listenSstp } from './sstp-listener.js'
import { listenPptp, PPTP_WEAKNESS_WARNING } from './pptp-listener.js'
import { listenL2tp, L2TP_MPPE_POLICY, PLAIN_L2TP_WARNING, type L2tpListenerHandle } from './l2tp-listener.js'
import { startGatewayIpsec } from './ipsec.js'
import { GreDriver } from '../transport/gre-driver.js'
import { LinkDialer, type LinkHost } from './links.js'
import { checkLinkRoutes, poolMembership } from './link-routes.js'
import { dialPptp } from '../client/pptp-dial.js'
import { Backoff } from '../lib/backoff.js'
import { systemRng } from '../crypto/rng.js'
import { reservedPrefixes } from '../aaa/framed-routes.js'
import { SessionRegistry } from './sessions.js'
import { TxBatch } from './tx-batch.js'
import { Counters, prefixCounters } from '../lib/counters.js'
import type { Logger } from '../lib/log.js'
import type { GatewayStatus } from '../control/api.js'
import type { PppAuthMethod } from '../ppp/auth/types.js'
import { VpnError } from '../lib/errors.js'
import { readSecretFile } from './secret-file.js'

export const VERSION = '0.1.0'

export class Gateway {
  private readonly closers: (() => void | Promise<void>)[] = []
  private readonly startedAt = Date.now()
  readonly registry: SessionRegistry
  private readonly config: GatewayConfig
  private readonly counters = new Counters()
  private readonly pool: AddressPool
  private readonly log: Logger
  private greCounters: (() => Record<string, number>) | undefined
  private l2tpCounters: (() => Record<string, number>) | undefined
  private ipsecCounters: (() => Record<string, number>) | undefined
  private readonly dialers: LinkDialer[] = []
  /** Site-to-site tunnels: stopped with the dialers, before sessions close, so none is re-established while shutting down. */
  private stopTunnels: (() => void) | undefined

  private constructor(config: GatewayConfig, log: Logger, registry: SessionRegistry, pool: AddressPool) {
    this.config = config
    this.log = log
    this.registry = registry
    this.pool = pool
  }

  static async start(config: GatewayConfig, log: Logger): Promise<Gateway> {
    const closers: (() => void | Promise<void>)[] = []
    try {
      return await Gateway.build(config, log, closers)
    } catch (e) {
      for (const c of closers.reverse()) { try { await c() } catch { /* already failing */ } }
      throw e
    }
  }

  private static async build(config: GatewayConfig, log: Logger, closers: (() => void | Promise<void>)[]): Promise<Gateway> {
    const secretKey = readOptional(config.paths.secretKey)
    const users = UserStore.open(config.paths.usersDb, { secretKey, lockout: config.auth.lockout })
    closers.push(() => users.close())
    for (const w of users.routeConflicts(reservedPrefixes(config.pool, config.routes))) log.warn(w)
    const records = new SessionLog(users.database)
    const recovered = records.recoverOpen(Date.now())
    if (recovered > 0) log.warn('closed session records left open by a previous run', { count: recovered, reason: 'gateway-restart' })

    const pool = new AddressPool(config.pool)
    const gatewayAddress = pool.allocate()
    if (!gatewayAddress) throw new VpnError('ERR_CONFIG', `config pool: ${config.pool} has no host address for the gateway`)
    const prefixLen = Number(config.pool.split('/')[1])

    const tun = TunDevice.open({ name: config.tun.name })
    closers.push(() => tun.close())
    disableIpv6(tun.name)
    const mtu = config.tun.mtu ?? defaultTunMtu(config.protocols)
    await netcfg.addAddress(tun.name, `${gatewayAddress}/${prefixLen}`)
    await netcfg.linkUp(tun.name, mtu)
    if (config.forwarding.enable && !(await netcfg.ipForwardingEnabled())) {
      await netcfg.setForwarding(true)
      log.info('enabled IPv4 forwarding (net.ipv4.ip_forward=1) so clients reach the networks behind the gateway')
    }
    if (config.forwarding.nat) {
      log.warn('forwarding.nat is set: add the MASQUERADE rule that `gatehouse firewall` prints; the gateway does not change the firewall itself')
    }

    const dataplane = new Dataplane({ writeTun: (p) => tun.write(p), writeTunMany: (ps) => tun.writeMany(ps), maxMss: tunnelMss(mtu) })
    const txBatch = new TxBatch()
    tun.onPackets((pkts) => txBatch.run(() => dataplane.handleTunPackets(pkts)))

    const registry = new SessionRegistry({
      aaa: { verify: (proof, now) => users.verifyAsync(proof, now) },
      accounting: records,
      pool: { allocate: (pref) => pool.allocate(pref), release: (a) => pool.release(a) },
      routes: dataplane,
      // A router account's networks (and a link's) are routed into the TUN while its session is up.
      // `add`, never `replace`: a network the host already routes (say, its own LAN) is refused and logged,
      // not taken over; `del ... dev TUN` then cannot touch the host's route either.
      kernelRoutes: { add: (p) => netcfg.addRouteExclusive(p, tun.name), remove: (p) => netcfg.delRoute(p, tun.name) },
      log: log.child('sessions'),
    })
    const gw = new Gateway(config, log, registry, pool)
    gw.closers.push(...closers)
    closers.length = 0
    try {
      await gw.listen(users, gatewayAddress, mtu, tun.name, txBatch, (fn) => dataplane.batch(fn))
    } catch (e) {
      // Listeners, dialers and sockets opened so far would keep the process alive: undo everything.
      await gw.stop()
      throw e
    }
    log.info('gateway ready', { tun: tun.name, address: `${gatewayAddress}/${prefixLen}`, mtu, pool: config.pool, control: config.paths.controlSocket })
    return gw
  }

  /** Listeners, links and the control socket (build's second half; on failure the caller stops the gateway). */
  private async listen(users: UserStore, gatewayAddress: string, mtu: number, tunName: string, txBatch: TxBatch, rxBatch: (fn: () => void) => void): Promise<void> {
    const { config, log, registry } = this
    const gw = this

    const authMethods: PppAuthMethod[] = ['mschapv2', 'eap']
    if (config.auth.allowChap) authMethods.push('chap-md5')
    if (config.auth.allowPap) authMethods.push('pap')
    const ppp = {
      authMethods,
      eapMethods: config.auth.allowChap ? ['eap-mschapv2', 'eap-md5'] as const : ['eap-mschapv2'] as const,
      authName: 'gatehouse',
      localAddress: gatewayAddress,
      dns: config.dns,
      wins: config.wins,
      mru: mtu,
      echoIntervalMs: config.keepalive.intervalSeconds * 1000,
      echoFailures: config.keepalive.failures,
    }
    if (config.protocols.includes('sstp')) {
      const sstp = await listenSstp({
        listen: config.listen,
        port: config.sstp.port,
        certPem: readRequired(config.paths.serverCert, 'server certificate'),
        keyPem: readRequired(config.paths.serverKey, 'server key'),
        ppp,
        registry,
        txBatch,
        log: log.child('sstp'),
        counters: gw.counters,
      })
      gw.closers.push(() => new Promise<void>((r) => sstp.close(() => r())))
      log.info('SSTP listening', { address: `${config.listen}:${config.sstp.port}` })
    }
    let linkGre: GreDriver | undefined
    let linkGreBound: string | undefined
    if (config.protocols.includes('pptp')) {
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(config.listen)) throw new VpnError('ERR_CONFIG', `config listen: PPTP's GRE data channel is IPv4 only here; set listen to an IPv4 address or 0.0.0.0 (now ${config.listen})`)
      const pptpLog = log.child('pptp')
      let lastGreError = 0
      const gre = GreDriver.open({
        // A received GRE batch reaches the TUN in one writeMany (PPTP packet views outlive the batch).
        aroundReceive: rxBatch,
        bindAddress: config.listen === '0.0.0.0' ? undefined : config.listen,
        onError: (e) => {
          gw.counters.inc('pptp.gre-error')
          // One line per 10 s at most: a vanished peer would otherwise log every packet.
          if (Date.now() - lastGreError > 10_000) { lastGreError = Date.now(); pptpLog.warn('GRE socket error', { error: e.message }) }
        },
      })
      gw.closers.push(() => gre.close())
      gw.greCounters = () => gre.counters()
      linkGre = gre
      linkGreBound = config.listen === '0.0.0.0' ? undefined : config.listen
      const pptp = await listenPptp({
        listen: config.listen,
        port: config.pptp.port,
        ppp,
        mppe: { required: true, keyBits: config.pptp.mppeKeyBits, stateless: 'allowed' },
        gre,
        registry,
        txBatch,
        log: pptpLog,
        counters: gw.counters,
      })
      gw.closers.push(() => new Promise<void>((r) => pptp.close(() => r())))
      log.warn(PPTP_WEAKNESS_WARNING)
      if (config.pptp.mppeKeyBits.some((b) => b !== 128)) log.warn('pptp.mppeKeyBits allows 40/56-bit MPPE keys: export-grade keys are found by brute force in minutes; allow only 128 unless a client cannot do it')
      log.info('PPTP listening', { address: `${config.listen}:${config.pptp.port}`, gre: 'IP protocol 47' })
    }
    // One IKE endpoint (UDP 500 can be bound once) serves L2TP/IPsec and the site-to-site tunnels.
    let l2tpHandle: L2tpListenerHandle | undefined
    const ipsec = config.protocols.includes('l2tp') || config.ipsecTunnels.length > 0
      ? await startGatewayIpsec({
        config, log, counters: gw.counters, aroundReceive: rxBatch,
        onPeerGone: (peer, message) => l2tpHandle?.peerGone(peer, message),
        // A tunnel with a child SA up is a session carrying the remote subnets (kernel routes are held below).
        tunnelHost: {
          linkUp: (carrier, info, now) => registry.linkUp(carrier, info, now),
          ip: (id, p) => registry.ip(id, p),
          closed: (id, reason, message, now) => registry.closed(id, reason, message, now),
        },
      })
      : undefined
    if (ipsec) {
      gw.stopTunnels = () => ipsec.tunnels.stop()
      gw.closers.push(() => ipsec.close())
      gw.ipsecCounters = () => ipsec.counters()
    }
    if (config.ipsecTunnels.length > 0) {
      // As for links: the remote subnets go into the TUN for as long as the tunnel is configured, so that
      // while it is down their traffic is dropped (counted 'no-session'), never sent out in clear.
      for (const t of config.ipsecTunnels) {
        for (const prefix of t.remoteSubnets) {
          await netcfg.addRouteExclusive(prefix, tunName).catch((e: Error) => {
            throw new VpnError('ERR_CONFIG', `config ipsec.tunnels (${t.name}): cannot route ${prefix} into ${tunName}: ${e.message} (this host routes ${prefix} already; a tunnel's remote subnets must be reachable only through the tunnel)`)
          })
        }
        log.info('IPsec tunnel configured', { tunnel: t.name, peer: t.peer, auth: t.auth, initiate: t.initiate, local: t.localSubnets.join(','), remote: t.remoteSubnets.join(',') })
      }
    }
    if (ipsec && config.protocols.includes('l2tp')) {
      // L2TP/IPsec (RFC 3193): IKE + ESP first, so the listener can take the datagrams of its SAs.
      const l2tp = await listenL2tp({
        listen: config.listen,
        port: config.l2tp.port,
        ppp,
        mppe: L2TP_MPPE_POLICY,
        plain: config.l2tp.allowWithoutIpsec,
        ...(config.l2tp.secretFile ? { secret: new TextEncoder().encode(readSecretFile(config.l2tp.secretFile, 'L2TP tunnel secret')) } : {}),
        ipsec: ipsec.l2tp,
        describeIpsec: (peer) => ipsec.describe(peer),
        registry,
        log: log.child('l2tp'),
        counters: gw.counters,
      })
      l2tpHandle = l2tp
      // Closed before IPsec (closers run in reverse): the StopCCNs still leave inside their SAs.
      gw.closers.push(() => l2tp.close())
      gw.l2tpCounters = () => l2tp.counters()
      log.info('L2TP/IPsec listening', { ike: `${config.listen}:500,4500/udp`, esp: 'IP protocol 50 and UDP 4500', auth: config.ipsec.auth.join(',') })
      if (config.l2tp.allowWithoutIpsec) {
        log.warn(PLAIN_L2TP_WARNING)
        log.info('L2TP listening (plain, without IPsec)', { address: `${config.listen}:${config.l2tp.port}/udp` })
      }
    }
    if (config.links.length > 0) {
      checkLinkRoutes(config)
      // The networks behind the peers go into the TUN for as long as the links are configured, up or
      // not: while a link is down its traffic is dropped (counted 'no-session') instead of following the
      // default route out in clear. `add`: a network the host already routes is a configuration error.
      for (const link of config.links) {
        for (const prefix of link.routes) {
          await netcfg.addRouteExclusive(prefix, tunName).catch((e: Error) => {
            throw new VpnError('ERR_CONFIG', `config links (${link.name}): cannot route ${prefix} into ${tunName}: ${e.message} (this host routes ${prefix} already; a link's networks must be reachable only through the link)`)
          })
        }
      }
    }
    // Links share the PPTP listener's GRE socket when there is one (one demux, one Call ID space: a
    // gateway that both answers and dials a peer never keys two calls alike), else one of their own.
    if (config.links.length > 0 && !linkGre) {
      linkGre = GreDriver.open({ onError: () => gw.counters.inc('link.gre-error'), aroundReceive: rxBatch })
      const g = linkGre
      gw.closers.push(() => g.close())
    }
    const inPool = poolMembership(config.pool)
    const linkHost: LinkHost = {
      linkUp: (carrier, info, now) => inPool(info.peerAddress)
        ? `the peer gave the link the tunnel address ${info.peerAddress}, inside this gateway's pool ${config.pool}: give the two gateways different pools`
        : registry.linkUp(carrier, { ...info, kernelRoutes: false }, now),
      ip: (id, p) => registry.ip(id, p),
      closed: (id, reason, message, now) => registry.closed(id, reason, message, now),
      routesHeld: (prefixes) => registry.routesHeld(prefixes),
    }
    for (const link of config.links) {
      const dialer = new LinkDialer(link, {
        host: linkHost,
        password: () => readSecretFile(link.passwordFile, 'link password'),
        dial: (o) => dialPptp({ ...o, gre: linkGre, localAddress: linkGreBound }),
        mru: tunnelMtu('pptp'),
        echoIntervalMs: config.keepalive.intervalSeconds * 1000,
        echoFailures: config.keepalive.failures,
        log: log.child('link'),
        backoff: new Backoff(systemRng),
      })
      gw.dialers.push(dialer)
      dialer.start()
      log.info('router-to-router link configured', { link: link.name, peer: `pptp://${link.host}:${link.port}`, user: link.user, routes: link.routes.join(',') })
    }
    const control: Server = await listenControl(config.paths.controlSocket, {
      status: () => gw.status(),
      sessions: () => registry.list(),
      disconnect: (id) => registry.disconnect(id),
    })
    gw.closers.push(() => new Promise<void>((r) => control.close(() => r())))
  }

  status(): GatewayStatus {
    return {
      version: VERSION, pid: process.pid, startedAt: this.startedAt, protocols: this.config.protocols,
      listen: [
        ...(this.config.protocols.includes('sstp') ? [`sstp ${this.config.listen}:${this.config.sstp.port}`] : []),
        ...(this.config.protocols.includes('pptp') ? [`pptp ${this.config.listen}:${this.config.pptp.port} + GRE`] : []),
        ...(this.config.protocols.includes('l2tp') ? [`l2tp/ipsec ${this.config.listen}:500,4500/udp + ESP (${this.config.ipsec.auth.join(', ')})`] : []),
        ...(this.config.protocols.includes('l2tp') && this.config.l2tp.allowWithoutIpsec ? [`l2tp ${this.config.listen}:${this.config.l2tp.port}/udp (without IPsec)`] : []),
        ...this.config.ipsecTunnels.map((t) => `ipsec tunnel ${t.name} to ${t.peer} (${t.auth}): ${t.localSubnets.join(',')} <=> ${t.remoteSubnets.join(',')}`),
      ],
      sessions: this.registry.size,
      pool: { cidr: this.config.pool, inUse: this.pool.inUse(), size: this.pool.size() },
      counters: { ...this.counters.snapshot(), ...prefixCounters('gre', this.greCounters?.()), ...this.l2tpCounters?.(), ...prefixCounters('ipsec', this.ipsecCounters?.()) },
    }
  }

  /** Ends every session cleanly (records written), then releases all resources. */
  async stop(): Promise<void> {
    this.log.info('shutting down: closing sessions', { sessions: this.registry.size })
    for (const d of this.dialers) d.stop() // no redial while shutting down
    this.stopTunnels?.()
    await this.registry.closeAll('admin', 'gateway shutting down', 3000)
    this.registry.forceCloseRemaining('gateway-shutdown', Date.now())
    await this.registry.kernelRoutesSettled()
    for (const c of this.closers.reverse()) { try { await c() } catch (e) { this.log.warn('error while closing', { error: (e as Error).message }) } }
    this.closers.length = 0
  }
}

function readRequired(path: string, what: string): string {
  try { return readFileSync(path, 'utf8') } catch (e) {
    throw new VpnError('ERR_CONFIG', `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (run `gatehouse init --dir DIR` first)' : (e as Error).message}`)
  }
}
function readOptional(path: string): Uint8Array | undefined {
  try { return new Uint8Array(readFileSync(path)) } catch { return undefined }
}

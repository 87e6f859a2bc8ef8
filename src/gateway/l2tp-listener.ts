// L2TP listener (RFC 2661, LNS role): the L2tpLnsListener core under a DatagramDriver, fed by UDP 1701
// inside IPsec transport-mode SAs (RFC 3193, through an EspUdpPort) and, only when explicitly allowed, by
// plain UDP 1701 (then MPPE is required); one server PppSession per call, registered with the SessionRegistry.
import type { Endpoint } from '../lib/endpoint.js'
import { L2tpLnsListener } from '../l2tp/index.js'
import type { ListenerEvent, L2tpSessionInfo } from '../l2tp/index.js'
import { PppSession } from '../ppp/session.js'
import type { PppEvent, PppServerOptions } from '../ppp/types.js'
import { L2TP_IPSEC_MPPE_POLICY, type MppePolicy } from '../ppp/ccp/policy.js'
import { UdpSocket } from '../transport/udp.js'
import { DatagramDriver } from '../transport/datagram-driver.js'
import type { DatagramSocket } from '../transport/datagram-driver.js'
import type { EspUdpPort } from '../transport/esp-udp-port.js'
import { L2tpPppCall } from '../client/l2tp-dial.js'
import { systemRng } from '../crypto/rng.js'
import type { SessionRegistry } from './sessions.js'
import type { Logger } from '../lib/log.js'
import type { Counters } from '../lib/counters.js'
import { prefixCounters } from '../lib/counters.js'
import { toHex } from '../lib/bytes.js'

export interface L2tpListenerOptions {
  readonly listen: string
  readonly port: number
  /** PPP server options except rng/role/mppe, shared by every call. */
  readonly ppp: Omit<PppServerOptions, 'rng' | 'role' | 'mppe'>
  /** MPPE policy of plain (unprotected) calls. */
  readonly mppe: MppePolicy
  readonly registry: SessionRegistry
  readonly log: Logger
  readonly counters: Counters
  /** Serve plain UDP `port` (no IPsec; weak, only when the configuration says so). */
  readonly plain: boolean
  /** L2TP inside IPsec (RFC 3193): the datagrams of transport-mode SAs. */
  readonly ipsec?: EspUdpPort
  /** RFC 2661 §5.1.1 tunnel secret: every LAC must answer our Challenge (and hidden AVPs can be read). */
  readonly secret?: Uint8Array
  /** How an IPsec peer shows in records and logs (outer address, suite). */
  readonly describeIpsec?: (peer: Endpoint) => string
  /** L2TP HELLO interval on idle tunnels (§6.5), ms; default the channel's. */
  readonly helloIntervalMs?: number
}

export interface L2tpListenerHandle {
  readonly local: Endpoint
  /** The IPsec SA of `peer` is gone: its calls end now (record reason 'ipsec-down') and its tunnels close. */
  peerGone(peer: Endpoint, message: string): void
  /** Gateway status counters (listener demux, UDP socket). */
  counters(): Record<string, number>
  /** StopCCN to every tunnel, then the socket closes. Sessions should be closed through the registry first. */
  close(): Promise<void>
}

/** Why plain L2TP is weak, said once when the gateway starts with it enabled. */
export const PLAIN_L2TP_WARNING =
  'Plain L2TP (without IPsec) is enabled: PPP travels unprotected except by MPPE, so anyone on the path sees user ' +
  'names and the MS-CHAPv2 exchange (one DES key search recovers the password hash) and MPPE has no integrity ' +
  'protection: the same weakness as PPTP. Use it only for testing or old clients; prefer SSTP, or L2TP/IPsec once it is available.'

/** How long an established tunnel may go without an established call before we close it. */
export const L2TP_CALL_SETUP_MS = 30_000
/** How long StopCCNs get to leave before the socket closes at shutdown. */
const SHUTDOWN_GRACE_MS = 300

/** MPPE is the only protection of plain L2TP: required, 128-bit, either mode (as for PPTP). */
export const L2TP_MPPE_POLICY: MppePolicy = { required: true, keyBits: [128], stateless: 'allowed' }

interface CallState {
  readonly id: string
  readonly tunnelId: number
  readonly sessionId: number
  readonly call: L2tpPppCall
  ended: boolean
  /** The LAC or the tunnel ended the call (PPP was told lowerDown): no CDN from us. */
  endedByPeer: boolean
}

const key = (tunnelId: number, sessionId: number): string => `${tunnelId}/${sessionId}`

export async function listenL2tp(o: L2tpListenerOptions): Promise<L2tpListenerHandle> {
  const sock = o.plain ? await UdpSocket.bind({ address: o.listen, port: o.port, what: 'L2TP' }) : undefined
  const ipsec = o.ipsec
  // One core for both carriers; a plain datagram claiming an IPsec peer's address and port is spoofed (RFC 3193 §4).
  const carrier: DatagramSocket = {
    onDatagram: (cb) => {
      sock?.onDatagram((data, from) => { if (ipsec?.has(from)) o.counters.inc('l2tp.plain-from-ipsec-peer'); else cb(data, from) })
      ipsec?.onDatagram(cb)
    },
    send: (to, data) => {
      if (ipsec?.has(to)) ipsec.send(to, data)
      else if (sock) sock.send(to, data)
      else o.counters.inc('l2tp.tx-no-sa')
    },
  }
  const calls = new Map<string, CallState>()
  const setupTimers = new Map<number, NodeJS.Timeout>()
  const callsOf = (tunnelId: number): CallState[] => [...calls.values()].filter((c) => c.tunnelId === tunnelId)

  const core = new L2tpLnsListener({
    rng: systemRng, hostName: 'gatehouse', vendorName: 'Gatehouse', logger: o.log,
    ...(o.secret ? { secret: o.secret, challengePeer: true } : {}),
    ...(o.helloIntervalMs !== undefined ? { channel: { helloInterval: o.helloIntervalMs } } : {}),
    onFrame: (tunnelId, sessionId, frame) => {
      const c = calls.get(key(tunnelId, sessionId))
      if (c) c.call.handleFrame(frame)
      else o.counters.inc('l2tp.frame-no-call')
    },
  })

  /** PPP of this call is down (or never will be up): record, CDN unless the peer ended it, tunnel too when it was the last call. */
  const endCall = (c: CallState, reason: string, message: string): void => {
    if (c.ended) return
    c.ended = true
    c.call.stop()
    calls.delete(key(c.tunnelId, c.sessionId))
    o.registry.closed(c.id, reason, message, Date.now())
    if (c.endedByPeer) return
    // §5.2/§6.12: PPP is down, clear the call (CDN); Windows and xl2tpd clients hold one call per tunnel,
    // so the tunnel (StopCCN) goes with its last call rather than waiting for HELLO to find a dead peer.
    driver.run(() => {
      core.closeSession(Date.now(), c.tunnelId, c.sessionId, reason)
      if (callsOf(c.tunnelId).length === 0) core.closeTunnel(Date.now(), c.tunnelId, reason)
    })
  }

  const onPpp = (c: CallState, ev: PppEvent): void => {
    switch (ev.type) {
      case 'authRequest':
        void o.registry.authenticate(c.id, ev.proof, Date.now()).then((verdict) => c.call.run(() => c.call.ppp.handleAuthResult(Date.now(), verdict)))
        break
      case 'up': o.registry.up(c.id, ev.peerAddress); break
      case 'ip': o.registry.ip(c.id, ev.packet); break
      case 'down': endCall(c, ev.reason, ev.message); break
      default: break
    }
  }

  const startCall = (tunnelId: number, peer: Endpoint, info: L2tpSessionInfo): void => {
    const now = Date.now()
    const t = setupTimers.get(tunnelId)
    if (t) { clearTimeout(t); setupTimers.delete(tunnelId) }
    const id = `l2tp-${toHex(systemRng.bytes(6))}`
    const viaIpsec = ipsec?.has(peer) === true
    const ppp = new PppSession({ ...o.ppp, mppe: viaIpsec ? L2TP_IPSEC_MPPE_POLICY : o.mppe, role: 'server', rng: systemRng }, now)
    const send = (frame: Uint8Array): void => {
      const tx = core.encodeFrame(tunnelId, info.sessionId, frame)
      if (tx) carrier.send(tx.to, tx.data)
    }
    // eslint-disable-next-line prefer-const
    let c: CallState
    const call = new L2tpPppCall(ppp, send, (ev) => onPpp(c, ev), (fault) => {
      o.counters.inc('l2tp.internal-error')
      o.log.error('internal error; closing this call only', { session: id, error: (fault as Error)?.stack ?? String(fault) })
      endCall(c, 'internal-error', String((fault as Error)?.message ?? fault))
    })
    c = { id, tunnelId, sessionId: info.sessionId, call, ended: false, endedByPeer: false }
    calls.set(key(tunnelId, info.sessionId), c)
    o.registry.opened({
      id, protocol: viaIpsec ? 'l2tp-ipsec' : 'l2tp', peer: viaIpsec && o.describeIpsec ? o.describeIpsec(peer) : `${peer.address}:${peer.port}`,
      sendIp: (packet) => { if (!c.ended) c.call.sendIp(packet) },
      close: (reason, message) => c.call.run(() => c.call.ppp.close(Date.now(), reason, message)),
      counters: () => nonZero(c.call.ppp.counters()),
    }, now)
    o.log.debug('L2TP call up; starting PPP', { session: id, tunnel: tunnelId, call: info.sessionId, peer: `${peer.address}:${peer.port}` })
    c.call.run(() => ppp.open(now))
  }

  /** The LAC or the tunnel ended the call: PPP goes down at once (its 'down' writes the record). */
  const peerEnded = (c: CallState, reason: string, message: string): void => {
    c.endedByPeer = true
    c.call.run(() => c.call.ppp.lowerDown(Date.now(), reason, message))
    endCall(c, reason, message) // when PPP was already dead (no 'down' follows)
  }

  const onEvent = (e: ListenerEvent): void => {
    const ev = e.event
    switch (ev.type) {
      case 'tunnelUp': {
        o.log.debug('L2TP tunnel up', { tunnel: e.tunnelId, peer: `${e.peer.address}:${e.peer.port}`, host: ev.peerHostName, vendor: ev.peerVendorName })
        // A tunnel that never places a call holds a Tunnel ID and HELLO traffic: bounded like PPTP's control connection.
        const t = setTimeout(() => {
          setupTimers.delete(e.tunnelId)
          if (callsOf(e.tunnelId).length > 0) return
          o.counters.inc('l2tp.no-call-timeout')
          driver.run(() => core.closeTunnel(Date.now(), e.tunnelId, 'no call placed'))
        }, L2TP_CALL_SETUP_MS)
        t.unref()
        setupTimers.set(e.tunnelId, t)
        break
      }
      case 'sessionUp': startCall(e.tunnelId, e.peer, ev); break
      case 'sessionDown': {
        // §6.4: a tunnel going down takes its calls with it; the 'closed' event that follows names why.
        if (ev.reason === 'tunnel-down') break
        const c = calls.get(key(e.tunnelId, ev.sessionId))
        if (c) peerEnded(c, 'peer-cleared', `call cleared: ${ev.reason}${ev.result ? ` (result ${ev.result.result}${ev.result.message ? `: ${ev.result.message}` : ''})` : ''}`)
        break
      }
      case 'closed': {
        const t = setupTimers.get(e.tunnelId)
        if (t) { clearTimeout(t); setupTimers.delete(e.tunnelId) }
        o.counters.inc(`l2tp.tunnel-closed:${ev.reason.split(' ')[0]}`)
        for (const c of callsOf(e.tunnelId)) peerEnded(c, 'control-closed', `L2TP tunnel ended (${ev.reason}${ev.message && ev.message !== ev.reason ? `: ${ev.message}` : ''})`)
        break
      }
    }
  }

  const driver: DatagramDriver<ListenerEvent> = new DatagramDriver(core, carrier, onEvent, (fault) => {
    // A bug in the listener core: every call on it is lost; the gateway keeps running.
    o.counters.inc('l2tp.internal-error')
    o.log.error('internal error in the L2TP listener; its calls are closed', { error: (fault as Error)?.stack ?? String(fault) })
    for (const c of [...calls.values()]) { c.endedByPeer = true; c.call.stop(); endCall(c, 'internal-error', String((fault as Error)?.message ?? fault)) }
  })

  return {
    local: sock?.local ?? { address: o.listen, port: o.port },
    peerGone: (peer, message) => {
      for (const id of core.tunnelsOf(peer)) {
        for (const c of callsOf(id)) peerEnded(c, 'ipsec-down', message)
        driver.run(() => core.closeTunnel(Date.now(), id, 'IPsec SA gone'))
      }
    },
    counters: () => ({ ...prefixCounters('l2tp.listener', core.counters.snapshot()), ...prefixCounters('l2tp.udp', sock?.counters.snapshot() ?? {}), ...prefixCounters('l2tp.ipsec', ipsec?.counters.snapshot() ?? {}) }),
    close: async () => {
      for (const t of setupTimers.values()) clearTimeout(t)
      setupTimers.clear()
      for (const c of [...calls.values()]) peerEnded(c, 'gateway-shutdown', 'gateway shutting down')
      driver.run(() => { for (const id of core.tunnelIds()) core.closeTunnel(Date.now(), id, 'gateway shutting down') })
      await new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS))
      driver.stop()
      await sock?.close()
    },
  }
}

function nonZero(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(c)) if (v !== 0) out[k] = v
  return out
}

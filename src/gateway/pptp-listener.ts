// PPTP listener (RFC 2637): the control connection on TCP 1723 (a PptpPacConnection per socket) and
// one call's PPP session over enhanced GRE per Outgoing-Call-Request, registered with the
// SessionRegistry like any carrier. MPPE is required on every call (RFC 3078; as Windows RRAS does).
import type { Server, Socket } from 'node:net'
import { PptpPacConnection } from '../pptp/control/pac-connection.js'
import type { PptpCallInfo, PptpEvent } from '../pptp/control/connection-types.js'
import { CallDisconnectResult } from '../pptp/control/constants.js'
import { GreCall } from '../pptp/gre/call.js'
import { PptpDataCall } from '../pptp/data-call.js'
import { PppSession } from '../ppp/session.js'
import type { PppEvent, PppServerOptions } from '../ppp/types.js'
import type { MppePolicy } from '../ppp/ccp/policy.js'
import { StreamDriver } from '../transport/stream-driver.js'
import { ipv4Of, listenTcp } from '../transport/tcp.js'
import type { GreBinding, GreDriver } from '../transport/gre-driver.js'
import { systemRng } from '../crypto/rng.js'
import type { SessionRegistry } from './sessions.js'
import type { TxBatch } from './tx-batch.js'
import { MAX_PREAUTH_PER_SOURCE, PreauthLimit } from './preauth-limit.js'
import type { Logger } from '../lib/log.js'
import type { Counters } from '../lib/counters.js'
import { toHex } from '../lib/bytes.js'

export interface PptpListenerOptions {
  readonly listen: string
  readonly port: number
  /** PPP server options except rng/role/mppe, shared by every call. */
  readonly ppp: Omit<PppServerOptions, 'rng' | 'role' | 'mppe'>
  readonly mppe: MppePolicy
  readonly gre: GreDriver
  readonly registry: SessionRegistry
  readonly log: Logger
  readonly counters: Counters
  readonly txBatch?: TxBatch
}

/** Why PPTP is weak, said once when the gateway starts with it enabled. */
export const PPTP_WEAKNESS_WARNING =
  'PPTP is enabled. It is weak: anyone who captures one MS-CHAPv2 login can recover the password hash with a single ' +
  'DES key search (2^56, hours on rented hardware) and then decrypt the session; MPPE has no integrity protection. ' +
  'Offer it only for old clients, and move them to SSTP (enabled by default) or, when available, L2TP/IPsec or IKEv2.'

interface CallState {
  readonly id: string
  readonly callId: number
  readonly data: PptpDataCall
  binding: GreBinding | undefined
  ended: boolean
  /** The PNS or the control connection ended the call (PPP is told lowerDown): not a local end. */
  endedByPeer: boolean
  /** For TxBatch: drains this call once at the end of a TUN batch. */
  readonly flusher: { flush(): void }
}

/**
 * §2.13 Result Code of the Call-Disconnect-Notify we send when PPP ended on our side: 1 Lost Carrier when
 * the peer went silent, 3 Admin Shutdown otherwise (authentication refused, administrator, policy).
 * 4 (Request) is only for answering a Call-Clear-Request, which the control core does itself.
 */
export function cdnResult(reason: string): number {
  return reason === 'echo-timeout' ? CallDisconnectResult.LostCarrier : CallDisconnectResult.AdminShutdown
}

/** Calls per control connection (§2.8 lets a PAC refuse more with No-Resource). */
export const MAX_CALLS_PER_CONNECTION = 1
/** How long a control connection may go without an established call. */
export const CALL_SETUP_MS = 30_000

/** Ends a call's PPP and GRE outside its binding (fault paths): MPPE keys are dropped; never throws. */
function finalise(c: CallState, reason: string, message: string): void {
  try { c.data.lowerDown(Date.now(), reason, message) } catch { /* already failing */ }
  try { c.data.end() } catch { /* already failing */ }
}

export async function listenPptp(o: PptpListenerOptions): Promise<Server> {
  const preauth = new PreauthLimit()
  const open = new Set<Socket>()
  const onConnection = (sock: Socket): void => {
    open.add(sock)
    sock.once('close', () => open.delete(sock))
    const peerIp = ipv4Of(sock.remoteAddress)
    if (!peerIp) { o.counters.inc('pptp.not-ipv4'); sock.destroy(); return }
    if (!preauth.acquire(peerIp)) {
      o.counters.inc('pptp.preauth-limit')
      o.log.warn('too many unauthenticated connections from one address; refusing', { peer: peerIp, limit: MAX_PREAUTH_PER_SOURCE })
      sock.destroy()
      return
    }
    let holdsSlot = true
    const releaseSlot = (): void => { if (holdsSlot) { holdsSlot = false; preauth.release(peerIp) } }
    const peer = `${peerIp}:${sock.remotePort}`
    // One call per control connection, as Windows, pptp-linux and pptpd use it: an unauthenticated peer
    // cannot multiply sessions and Call IDs behind one pre-authentication slot.
    const core = new PptpPacConnection({ rng: systemRng, callIds: o.gre.callIds, logger: o.log, maxCalls: MAX_CALLS_PER_CONNECTION })
    // R1: a connection must place its call within CALL_SETUP_MS (SSTP has the same bound on its handshake).
    const setupTimer = setTimeout(() => {
      o.counters.inc('pptp.no-call-timeout')
      o.log.debug('no call placed in time; closing the control connection', { peer })
      driver.run(() => core.close(Date.now(), 'timeout', 'no call placed'))
      setTimeout(() => sock.destroy(), 3000).unref()
    }, CALL_SETUP_MS)
    setupTimer.unref()
    sock.once('close', () => clearTimeout(setupTimer))
    const calls = new Map<number, CallState>()
    let closed = false

    /** `local`: PPP ended on our side (auth refused, echo timeout, admin), not by the PNS's Call-Clear or the control connection. */
    const endCall = (c: CallState, reason: string, message: string, local = false): void => {
      if (c.ended) return
      c.ended = true
      if (c.binding && !c.binding.removed) c.binding.run(() => c.data.end())
      else finalise(c, reason, message)
      c.binding?.remove()
      calls.delete(c.callId)
      o.registry.closed(c.id, reason, message, Date.now())
      // PPP is down: tell the PNS (§2.13 Call-Disconnect-Notify). A no-op when the PNS cleared the call.
      driver.run(() => core.hangupCall(Date.now(), c.callId, reason, cdnResult(reason)))
      // Its last call gone, the control connection has nothing left to do (as pptpd does): Stop-Control-
      // Connection-Request (§2.3) rather than holding the socket of a dead client until the keepalive gives up.
      if (local && calls.size === 0) driver.run(() => core.close(Date.now(), reason, 'call ended'))
    }

    const onPpp = (c: CallState, ev: PppEvent): void => {
      switch (ev.type) {
        case 'authRequest':
          void o.registry.authenticate(c.id, ev.proof, Date.now()).then((verdict) => c.binding?.run(() => c.data.ppp.handleAuthResult(Date.now(), verdict)))
          break
        case 'authenticated': releaseSlot(); break
        case 'up': o.registry.up(c.id, ev.peerAddress); break
        case 'ip': o.registry.ip(c.id, ev.packet); break
        case 'down': endCall(c, ev.reason, ev.message, !c.endedByPeer); break
      }
    }

    const startCall = (info: PptpCallInfo): void => {
      const now = Date.now()
      const id = `pptp-${toHex(systemRng.bytes(6))}`
      const ppp = new PppSession({ ...o.ppp, mppe: o.mppe, role: 'server', rng: systemRng }, now)
      const gre = new GreCall({ localCallId: info.callId, peerCallId: info.peerCallId, peerReceiveWindow: info.peerReceiveWindow })
      const c: CallState = { id, callId: info.callId, data: new PptpDataCall(gre, ppp), binding: undefined, ended: false, endedByPeer: false, flusher: { flush: () => c.binding?.run() } }
      calls.set(info.callId, c)
      o.registry.opened({
        id, protocol: 'pptp', peer,
        sendIp: (packet) => {
          if (c.ended) return
          if (o.txBatch?.defer(c.flusher)) { c.data.sendIp(packet); return }
          c.binding?.run(() => c.data.sendIp(packet))
        },
        close: (reason, message) => c.binding?.run(() => c.data.close(Date.now(), reason, message)),
        counters: () => c.data.counters(),
      }, now)
      try {
        c.binding = o.gre.attach(peerIp, c.data, (ev) => onPpp(c, ev), (fault) => {
          o.counters.inc('pptp.internal-error')
          o.log.error('internal error; closing this call only', { session: id, peer, error: (fault as Error)?.stack ?? String(fault) })
          endCall(c, 'internal-error', String((fault as Error)?.message ?? fault))
        })
      } catch (e) {
        // (peer, Call ID) already registered: the allocator skips IDs the demux holds, so this is our bug.
        o.log.error('cannot register the GRE call', { session: id, error: (e as Error).message })
        endCall(c, 'internal-error', (e as Error).message)
        return
      }
      c.binding.run(() => c.data.open(now))
    }

    const driver: StreamDriver<PptpEvent> = new StreamDriver(core, sock, (ev) => {
      switch (ev.type) {
        case 'controlUp':
          o.log.debug('PPTP control connection up', { peer, host: ev.peerHostName, vendor: ev.peerVendorString })
          break
        case 'callUp': clearTimeout(setupTimer); startCall(ev); break
        case 'callDown': {
          const c = calls.get(ev.callId)
          if (!c) break
          // The core also drops its calls when the control connection itself ends (EOF, RST, echo timeout,
          // protocol error): that is not a Call-Clear-Request from the peer, and the record must say so.
          const reason = ev.reason === 'peer-cleared' ? 'peer-cleared' : 'control-closed'
          const message = reason === 'control-closed' ? `control connection ended (${ev.reason})` : `call cleared: ${ev.reason}`
          c.endedByPeer = true
          c.binding?.run(() => c.data.lowerDown(Date.now(), reason, message))
          endCall(c, reason, message)
          break
        }
        case 'setLinkInfo': o.counters.inc('pptp.set-link-info'); break
        case 'closed':
          if (closed) break
          closed = true
          releaseSlot()
          // Bad control input surfaces in the gateway's status (DESIGN.md §5: dropped, counted with a
          // reason): why the connection ended, and the header/body field that did not decode.
          o.counters.inc(`pptp.control-closed:${ev.reason}`)
          for (const [k, v] of Object.entries(core.counters())) if (k.startsWith('framing:') || k.startsWith('decode:')) o.counters.inc(`pptp.control.${k}`, v)
          for (const c of [...calls.values()]) {
            c.endedByPeer = true
            c.binding?.run(() => c.data.lowerDown(Date.now(), 'control-closed', ev.message))
            endCall(c, 'control-closed', ev.message || ev.reason)
          }
          driver.end()
          break
      }
    }, (fault) => {
      o.counters.inc('pptp.internal-error')
      o.log.error('internal error; closing this control connection', { peer, error: (fault as Error)?.stack ?? String(fault) })
      releaseSlot()
      closed = true
      for (const c of [...calls.values()]) {
        c.ended = true
        c.binding?.remove()
        finalise(c, 'internal-error', String((fault as Error)?.message ?? fault))
        o.gre.callIds.release(c.callId) // the dead core cannot release it any more
        o.registry.closed(c.id, 'internal-error', String((fault as Error)?.message ?? fault), Date.now())
      }
      calls.clear()
    })
    driver.run(() => {})
  }
  const server = await listenTcp({ host: o.listen, port: o.port, what: 'PPTP', onConnection })
  // net.Server.close() waits for every accepted connection to end. A control connection whose peer
  // vanished after its call ended, or one that never placed a call, lives until the §2.5 keep-alive
  // gives up (minutes), and would hold the gateway's shutdown that long: the listener's close ends them.
  const closeServer = server.close.bind(server)
  server.close = (cb?: (err?: Error) => void): Server => {
    closeServer(cb)
    for (const s of open) s.destroy()
    return server
  }
  return server
}

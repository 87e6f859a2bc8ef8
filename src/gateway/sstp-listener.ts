// SSTP listener: TLS on TCP (443 by default); each connection gets an SSTP server core that owns a
// PPP session, driven by a StreamDriver and registered with the SessionRegistry.
import type { Server, TLSSocket } from 'node:tls'
import { SstpServerConnection } from '../sstp/server-connection.js'
import { PppSession } from '../ppp/session.js'
import { StreamDriver } from '../transport/stream-driver.js'
import { listenTls } from '../transport/tls.js'
import { systemRng } from '../crypto/rng.js'
import { certificateDer } from '../crypto/x509.js'
import { certificateHashes } from '../sstp/crypto-binding.js'
import type { PppServerOptions } from '../ppp/types.js'
import type { SessionRegistry } from './sessions.js'
import type { TxBatch } from './tx-batch.js'
import { MAX_PREAUTH_PER_SOURCE, PreauthLimit } from './preauth-limit.js'
import type { Logger } from '../lib/log.js'
import type { Counters } from '../lib/counters.js'
import { toHex } from '../lib/bytes.js'

export interface SstpListenerOptions {
  readonly listen: string
  readonly port: number
  readonly certPem: string
  readonly keyPem: string
  /** PPP server options except rng/role, shared by every session. */
  readonly ppp: Omit<PppServerOptions, 'rng' | 'role'>
  readonly registry: SessionRegistry
  readonly log: Logger
  readonly counters: Counters
  /** Coalesces sends during a TUN batch (see tx-batch.ts). */
  readonly txBatch?: TxBatch
  /** Called for TLS key logging (tshark decryption) when set. */
  readonly keylog?: (line: Buffer) => void
}

export async function listenSstp(o: SstpListenerOptions): Promise<Server> {
  const { sha256: certHashSha256, sha1: certHashSha1 } = certificateHashes(certificateDer(o.certPem))
  const preauth = new PreauthLimit()
  const onConnection = (sock: TLSSocket): void => {
    const source = sock.remoteAddress ?? '?'
    if (!preauth.acquire(source)) {
      o.counters.inc('sstp.preauth-limit')
      o.log.warn('too many unauthenticated connections from one address; refusing', { peer: source, limit: MAX_PREAUTH_PER_SOURCE })
      sock.destroy()
      return
    }
    let holdsSlot = true
    const releaseSlot = (): void => { if (holdsSlot) { holdsSlot = false; preauth.release(source) } }
    // Random ids: a counter would repeat after a restart (same PID in a container) and collide
    // with the records of the previous run.
    const id = `sstp-${toHex(systemRng.bytes(6))}`
    const peer = `${sock.remoteAddress}:${sock.remotePort}`
    const core = new SstpServerConnection({
      rng: systemRng,
      now: Date.now(),
      certHashSha256,
      certHashSha1,
      createPpp: (now) => new PppSession({ ...o.ppp, role: 'server', rng: systemRng }, now),
    })
    let ended = false
    const driver = new StreamDriver(core, sock, (ev) => {
      switch (ev.type) {
        case 'authRequest': {
          // The verdict arrives later (at the earliest on a microtask), outside this drain.
          void o.registry.authenticate(id, ev.proof, Date.now()).then((verdict) => driver.run(() => core.handleAuthResult(Date.now(), verdict)))
          break
        }
        case 'authenticated': releaseSlot(); break
        case 'up': o.registry.up(id, ev.peerAddress); break
        case 'ip': o.registry.ip(id, ev.packet); break
        case 'closed':
          if (ended) break
          ended = true
          releaseSlot()
          o.registry.closed(id, ev.reason, ev.message, Date.now())
          driver.end()
          break
      }
    }, (fault) => {
      o.counters.inc('sstp.internal-error')
      o.log.error('internal error; closing this connection only', { session: id, peer, error: (fault as Error)?.stack ?? String(fault) })
      releaseSlot()
      if (!ended) { ended = true; o.registry.closed(id, 'internal-error', String((fault as Error)?.message ?? fault), Date.now()) }
    })
    const flusher = { flush: () => driver.run() }
    o.registry.opened({
      id, protocol: 'sstp', peer,
      sendIp: (packet) => {
        if (!driver.writable()) { o.counters.inc('sstp.tx-backlog-drop'); return }
        if (o.txBatch?.defer(flusher)) core.sendIp(packet)
        else driver.run(() => core.sendIp(packet))
      },
      close: (reason, message) => driver.run(() => core.close(Date.now(), reason, message)),
    }, Date.now())
    driver.run(() => {})
  }
  return listenTls({
    host: o.listen, port: o.port, certPem: o.certPem, keyPem: o.keyPem, what: 'SSTP', keylog: o.keylog, onConnection,
    onHandshakeError: (e, peer) => {
      o.counters.inc('sstp.tls-handshake-failed')
      o.log.debug('TLS handshake failed', { peer, error: e.message })
    },
  })
}

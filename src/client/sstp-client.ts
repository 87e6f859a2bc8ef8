// The SSTP client composition root: TLS to the gateway, the SSTP client core owning a PPP session,
// then the tunnel (TUN, routes, DNS: tunnel.ts).
import type { TLSSocket } from 'node:tls'
import { readFileSync } from 'node:fs'
import { SstpClientConnection } from '../sstp/client-connection.js'
import { PppSession } from '../ppp/session.js'
import { StreamDriver } from '../transport/stream-driver.js'
import { connectTls } from '../transport/tls.js'
import { ipv4Of } from '../transport/tcp.js'
import { systemRng } from '../crypto/rng.js'
import { certificateHashes } from '../sstp/crypto-binding.js'
import { VpnError } from '../lib/errors.js'
import { deferred } from '../lib/deferred.js'
import { describeCloseReason, describeConnectError } from './errors.js'
import { setUpTunnel, describeUp, type ClientTunnel, type ClientUp } from './tunnel.js'
import { tunnelMtu } from '../dataplane/mtu.js'

export interface SstpClientOptions {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly caFile?: string
  readonly insecure?: boolean
  /** Split tunnel: only these prefixes go through the tunnel. Absent: full tunnel. */
  readonly split?: readonly string[]
  readonly tunName?: string
  readonly setDns?: boolean
  readonly mtu?: number
  readonly progress: (line: string) => void
  readonly keylog?: (line: Buffer) => void
}

export type { ClientUp } from './tunnel.js'

/** A connected client; `closed` settles when the tunnel ends (resolves on a clean local close). */
export interface SstpClientHandle {
  readonly up: ClientUp
  readonly closed: Promise<void>
  disconnect(): Promise<void>
}

export async function connectSstp(o: SstpClientOptions): Promise<SstpClientHandle> {
  const ca = o.caFile ? readCa(o.caFile) : undefined
  o.progress(`connecting to ${o.host}:${o.port}`)
  let sock: TLSSocket
  try {
    sock = await connectTls({ host: o.host, port: o.port, ca, insecure: o.insecure, keylog: o.keylog })
  } catch (e) {
    throw new VpnError('ERR_CONNECT', describeConnectError(e as NodeJS.ErrnoException, o.host, o.port))
  }
  const peerCert = sock.getPeerX509Certificate()
  if (!peerCert) { sock.destroy(); throw new VpnError('ERR_CONNECT', 'the gateway sent no certificate') }
  o.progress(`TLS ${sock.getProtocol()} established; certificate ${peerCert.subject.replace(/\n/g, ', ')}${o.insecure ? ' (NOT verified: --insecure)' : ', verified'}`)
  const hashes = certificateHashes(new Uint8Array(peerCert.raw))
  const core = new SstpClientConnection({
    rng: systemRng,
    now: Date.now(),
    host: o.host,
    certHashSha256: hashes.sha256,
    certHashSha1: hashes.sha1,
    createPpp: (now) => new PppSession({ role: 'client', rng: systemRng, user: o.user, password: o.password, mru: o.mtu ?? tunnelMtu('sstp') }, now),
  })

  let tunnel: ClientTunnel | undefined
  let upSeen: string | undefined
  let localClose = false
  let droppedFromGateway = 0
  const upD = deferred<ClientUp>()
  const closedD = deferred<void>(true)
  const closed = closedD.promise

  let ended = false
  const teardown = (): void => {
    ended = true
    tunnel?.teardown()
    tunnel = undefined
  }

  const driver: StreamDriver<ReturnType<SstpClientConnection['pollEvent']> & object> = new StreamDriver(core, sock, (ev) => {
    switch (ev.type) {
      case 'authenticated': o.progress(`authenticated as ${o.user} (${ev.method})`); break
      case 'up': {
        // A renegotiation announces 'up' again: the tunnel is set up once; changed addresses end the session.
        if (upSeen) {
          if (upSeen !== `${ev.localAddress}/${ev.peerAddress}`) driver.run(() => core.close(Date.now(), 'address-changed', `the gateway renegotiated different addresses (${ev.localAddress}/${ev.peerAddress}, was ${upSeen})`))
          break
        }
        upSeen = `${ev.localAddress}/${ev.peerAddress}`
        void (async () => {
          try {
            const t = await setUpTunnel({
              localAddress: ev.localAddress, peerAddress: ev.peerAddress, dns: ev.dns, outerGateway: ipv4Of(sock.remoteAddress) ?? o.host,
              tunName: o.tunName, mtu: o.mtu ?? tunnelMtu('sstp'), split: o.split, setDns: o.setDns !== false,
              onPackets: (pkts) => driver.batch(() => { for (const p of pkts) core.sendIp(p) }),
            })
            if (ended) { t.teardown(); return } // the connection ended while the TUN was being set up
            tunnel = t
            o.progress(describeUp(t, o.split))
            upD.resolve(t.info)
          } catch (e) {
            const err = e as VpnError
            upD.reject(err)
            driver.run(() => core.close(Date.now(), 'local-error', err.message))
          }
        })()
        break
      }
      case 'ip':
        // A hostile gateway's malformed packet must not end the client: the kernel refuses it, we count it.
        if (tunnel && !tunnel.write(ev.packet)) droppedFromGateway++
        break
      case 'closed': {
        teardown()
        driver.end()
        if (localClose) { closedD.resolve(); break }
        const err = new VpnError('ERR_DISCONNECTED', describeCloseReason(ev.reason, ev.message, o.user))
        upD.reject(err)
        closedD.reject(err)
        break
      }
      default: break
    }
  }, (fault) => {
    teardown()
    const err = new VpnError('ERR_INTERNAL', `internal error, disconnected: ${(fault as Error)?.message ?? String(fault)}`)
    upD.reject(err)
    closedD.reject(err)
  })
  driver.run(() => {})
  const up = await upD.promise
  return {
    up,
    closed,
    async disconnect() {
      localClose = true
      driver.run(() => core.close(Date.now(), 'admin', 'user disconnected'))
      const t = setTimeout(() => { teardown(); sock.destroy(); closedD.resolve() }, 5000)
      await closed.catch(() => {})
      clearTimeout(t)
    },
  }
}

function readCa(file: string): string {
  try { return readFileSync(file, 'utf8') } catch (e) { throw new VpnError('ERR_CA_FILE', `cannot read CA file ${file}: ${(e as Error).message}`) }
}

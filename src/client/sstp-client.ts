// The SSTP client composition root: TLS to the gateway, the SSTP client core owning a PPP session,
// then a TUN device with the assigned address, routes (full or split tunnel) and the pushed DNS.
import type { TLSSocket } from 'node:tls'
import { readFileSync } from 'node:fs'
import { SstpClientConnection } from '../sstp/client-connection.js'
import { PppSession } from '../ppp/session.js'
import { StreamDriver } from '../transport/stream-driver.js'
import { connectTls } from '../transport/tls.js'
import { TunDevice } from '../transport/tun.js'
import * as netcfg from '../transport/netcfg.js'
import { systemRng } from '../crypto/rng.js'
import { certificateHashes } from '../sstp/crypto-binding.js'
import { VpnError } from '../lib/errors.js'
import { describeCloseReason, describeConnectError } from './errors.js'
import { applyDns, type DnsRestore } from './dns.js'
import { disableIpv6 } from '../transport/sysctl.js'
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

export interface ClientUp { readonly address: string; readonly gateway: string; readonly dns: readonly string[]; readonly tun: string }

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

  let tun: TunDevice | undefined
  let dns: DnsRestore | undefined
  let upInfo: ClientUp | undefined
  let localClose = false
  let droppedFromGateway = 0
  let resolveUp!: (u: ClientUp) => void
  let rejectUp!: (e: Error) => void
  const upPromise = new Promise<ClientUp>((res, rej) => { resolveUp = res; rejectUp = rej })
  let resolveClosed!: () => void
  let rejectClosed!: (e: Error) => void
  const closed = new Promise<void>((res, rej) => { resolveClosed = res; rejectClosed = rej })
  closed.catch(() => {})

  const teardown = (): void => {
    try { dns?.restore() } catch { /* best effort */ }
    dns = undefined
    tun?.close()
    tun = undefined
  }

  const driver: StreamDriver<ReturnType<SstpClientConnection['pollEvent']> & object> = new StreamDriver(core, sock, (ev) => {
    switch (ev.type) {
      case 'authenticated': o.progress(`authenticated as ${o.user} (${ev.method})`); break
      case 'up': {
        void (async () => {
        try {
          tun = TunDevice.open({ name: o.tunName })
          disableIpv6(tun.name)
          const mtu = o.mtu ?? tunnelMtu('sstp')
          await netcfg.addAddress(tun.name, ev.localAddress, ev.peerAddress)
          await netcfg.linkUp(tun.name, mtu)
          const routes = o.split && o.split.length ? o.split : ['0.0.0.0/1', '128.0.0.0/1']
          for (const r of routes) await netcfg.addRoute(r, tun.name)
          const t = tun
          t.onPackets((pkts) => driver.batch(() => { for (const p of pkts) core.sendIp(p) }))
          if (o.setDns !== false) dns = applyDns(t.name, ev.dns)
          upInfo = { address: ev.localAddress, gateway: ev.peerAddress, dns: ev.dns, tun: t.name }
          o.progress(`tunnel up on ${t.name}: address ${ev.localAddress}, gateway ${ev.peerAddress}, ${o.split?.length ? `split routes ${o.split.join(', ')}` : 'full tunnel'}${ev.dns.length ? `, DNS ${ev.dns.join(', ')}${dns ? ` (${dns.how})` : ''}` : ''}`)
          resolveUp(upInfo)
        } catch (e) {
          teardown()
          const err = e instanceof VpnError ? e : new VpnError('ERR_TUN', `cannot set up the tunnel interface: ${(e as Error).message}`)
          rejectUp(err)
          driver.run(() => core.close(Date.now(), 'local-error', err.message))
        }
        })()
        break
      }
      case 'ip':
        // A hostile gateway's malformed packet must not end the client: the kernel refuses it, we count it.
        try { tun?.write(ev.packet) } catch { droppedFromGateway++ }
        break
      case 'closed': {
        teardown()
        driver.end()
        if (localClose) { resolveClosed(); break }
        const err = new VpnError('ERR_DISCONNECTED', describeCloseReason(ev.reason, ev.message, o.user))
        rejectUp(err)
        rejectClosed(err)
        break
      }
      default: break
    }
  }, (fault) => {
    teardown()
    const err = new VpnError('ERR_INTERNAL', `internal error, disconnected: ${(fault as Error)?.message ?? String(fault)}`)
    rejectUp(err)
    rejectClosed(err)
  })
  driver.run(() => {})
  const up = await upPromise
  return {
    up,
    closed,
    async disconnect() {
      localClose = true
      driver.run(() => core.close(Date.now(), 'admin', 'user disconnected'))
      const t = setTimeout(() => { teardown(); sock.destroy(); resolveClosed() }, 5000)
      await closed.catch(() => {})
      clearTimeout(t)
    },
  }
}

function readCa(file: string): string {
  try { return readFileSync(file, 'utf8') } catch (e) { throw new VpnError('ERR_CA_FILE', `cannot read CA file ${file}: ${(e as Error).message}`) }
}

// Plain TCP adapters for stream carriers without TLS (the PPTP control connection, RFC 2637 §1.3 TCP
// 1723): a listener handing over accepted sockets, and a connect that resolves once connected.
import net from 'node:net'
import { VpnError } from '../lib/errors.js'

/** The listen failure as one sentence with the likely fix (shared with tls.ts). */
export function listenError(e: NodeJS.ErrnoException, what: string, host: string, port: number): VpnError {
  const hint = e.code === 'EADDRINUSE' ? ' (another service holds this port: stop it or change the port)'
    : e.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
      : e.code === 'EADDRNOTAVAIL' ? ' (no interface has this address: fix `listen` in the config)' : ''
  return new VpnError('ERR_LISTEN', `cannot listen for ${what} on ${host}:${port}: ${e.message}${hint}`, { cause: e })
}

export interface TcpListenOptions {
  readonly host: string
  readonly port: number
  /** What listens, for error messages ("PPTP"). */
  readonly what: string
  readonly onConnection: (sock: net.Socket) => void
}

export async function listenTcp(o: TcpListenOptions): Promise<net.Server> {
  const server = net.createServer((sock) => { sock.setNoDelay(true); o.onConnection(sock) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, o.what, o.host, o.port)))
    server.listen(o.port, o.host, () => resolve())
  })
  return server
}

/** Connects; rejects with the system error as is (its `code` names the cause), or ETIMEDOUT. */
export function connectTcp(o: { host: string; port: number; timeoutMs?: number; localAddress?: string }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress, family: 4, timeout: o.timeoutMs ?? 15000 })
    const fail = (e: Error): void => { s.destroy(); reject(e) }
    s.once('connect', () => { s.off('error', fail); s.setTimeout(0); s.setNoDelay(true); resolve(s) })
    s.once('error', fail)
    s.once('timeout', () => fail(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
  })
}

/** A socket's IPv4 peer address without the IPv4-mapped IPv6 prefix ("::ffff:198.18.0.2" -> "198.18.0.2"). */
export function ipv4Of(address: string | undefined): string | undefined {
  if (!address) return undefined
  const a = address.startsWith('::ffff:') ? address.slice(7) : address
  return /^\d+\.\d+\.\d+\.\d+$/.test(a) ? a : undefined
}

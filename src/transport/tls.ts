// TLS adapters for stream carriers (SSTP now): a listener that hands over handshaken sockets, and a
// client connect that resolves once the handshake (and certificate check) is done. No protocol here.
import tls from 'node:tls'
import { listenError } from './tcp.js'

export interface TlsListenOptions {
  readonly host: string
  readonly port: number
  readonly certPem: string
  readonly keyPem: string
  /** What listens, for error messages ("SSTP"). */
  readonly what: string
  readonly onConnection: (sock: tls.TLSSocket) => void
  readonly onHandshakeError: (err: Error, peer: string) => void
  readonly keylog?: (line: Buffer) => void
}

/** Listens with TLS 1.2 or newer; rejects with VpnError ERR_LISTEN naming the address and the likely fix. */
export async function listenTls(o: TlsListenOptions): Promise<tls.Server> {
  // A peer that opens TCP and never finishes the handshake is cut after 15 s (Node's default is 120 s).
  const server = tls.createServer({ cert: o.certPem, key: o.keyPem, minVersion: 'TLSv1.2', handshakeTimeout: 15_000 })
  if (o.keylog) server.on('keylog', (line) => o.keylog!(line))
  server.on('tlsClientError', (e, sock) => o.onHandshakeError(e, `${sock.remoteAddress}:${sock.remotePort}`))
  server.on('secureConnection', (sock) => { sock.setNoDelay(true); o.onConnection(sock) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, o.what, o.host, o.port)))
    server.listen(o.port, o.host, () => resolve())
  })
  return server
}

export interface TlsConnectOptions {
  readonly host: string
  readonly port: number
  /** Trusted CA certificates (PEM); the system store when absent. */
  readonly ca?: string
  readonly insecure?: boolean
  readonly timeoutMs?: number
  readonly keylog?: (line: Buffer) => void
}

/** Connects and completes the handshake; rejects with the system/TLS error as is (its `code` names the cause). */
export function connectTls(o: TlsConnectOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const isIp = /^\d+\.\d+\.\d+\.\d+$/.test(o.host) || o.host.includes(':')
    const s = tls.connect({
      host: o.host, port: o.port, servername: isIp ? undefined : o.host,
      ca: o.ca, rejectUnauthorized: !o.insecure, minVersion: 'TLSv1.2', timeout: o.timeoutMs ?? 15000,
    })
    if (o.keylog) s.on('keylog', o.keylog)
    const fail = (e: Error): void => { s.destroy(); reject(e) }
    s.once('secureConnect', () => { s.off('error', fail); s.setTimeout(0); s.setNoDelay(true); resolve(s) })
    s.once('error', fail)
    s.once('timeout', () => fail(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
  })
}

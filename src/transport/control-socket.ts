// The control API over a Unix socket (newline-delimited JSON, one request per line). The socket
// file is created mode 0600: only the gateway's owner (root) may manage sessions.
import net from 'node:net'
import { chmodSync, existsSync, unlinkSync } from 'node:fs'
import { dispatch, type ControlHandler, type ControlRequest, type ControlResponse } from '../control/api.js'
import { VpnError } from '../lib/errors.js'

const MAX_LINE = 64 * 1024

export async function listenControl(path: string, handler: ControlHandler): Promise<net.Server> {
  if (existsSync(path)) {
    // A live gateway answers; a stale socket from a crashed one is removed.
    const alive = await new Promise<boolean>((resolve) => {
      const c = net.connect(path, () => { c.destroy(); resolve(true) })
      c.on('error', () => resolve(false))
    })
    if (alive) throw new VpnError('ERR_ALREADY_RUNNING', `another gateway is already running with control socket ${path}; stop it first`)
    unlinkSync(path)
  }
  const server = net.createServer((sock) => {
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_LINE) { sock.destroy(); return }
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        let res: ControlResponse
        try { res = dispatch(handler, JSON.parse(line)) } catch { res = { ok: false, error: 'request is not valid JSON' } }
        sock.write(JSON.stringify(res) + '\n')
      }
    })
    sock.on('error', () => {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new VpnError('ERR_CONTROL_SOCKET', `cannot listen on control socket ${path}: ${e.message}`, { cause: e })))
    server.listen(path, () => resolve())
  })
  chmodSync(path, 0o600)
  return server
}

/** Sends one request to a running gateway; throws VpnError naming the socket when none answers. */
export async function controlRequest(path: string, req: ControlRequest, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path)
    let buf = ''
    const timer = setTimeout(() => { sock.destroy(); reject(new VpnError('ERR_CONTROL_TIMEOUT', `gateway did not answer on ${path} within ${timeoutMs} ms`)) }, timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'))
    sock.on('data', (c: string) => {
      buf += c
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      sock.end()
      const res = JSON.parse(buf.slice(0, nl)) as ControlResponse
      if (res.ok) resolve(res.result)
      else reject(new VpnError('ERR_CONTROL', res.error))
    })
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no gateway is running for this directory (start it with `gatehouse serve --dir DIR`)' : e.message
      reject(new VpnError('ERR_NOT_RUNNING', `cannot reach the gateway at ${path}: ${why}`))
    })
  })
}

// Server and client cores over a real TLS connection on 127.0.0.1 (node:tls delivers Buffers in arbitrary chunks):
// HTTPS preamble, Call Connect, PPP MS-CHAPv2, crypto binding against the real certificate, IP both ways, disconnect.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createCa, issueServerCert } from '../../src/pki/ca.js'
import { sha1, sha256 } from '../../src/crypto/hash.js'
import { systemRng } from '../../src/crypto/rng.js'
import { PppSession } from '../../src/ppp/session.js'
import { SstpServerConnection } from '../../src/sstp/server-connection.js'
import { SstpClientConnection } from '../../src/sstp/client-connection.js'
import type { SstpEvent } from '../../src/sstp/connection-base.js'
import { PASSWORD, ipPacket, verify } from './harness.js'

type Core = SstpServerConnection | SstpClientConnection

/** The smallest driver: bytes in, transmit out, events to `onEvent`, one timer. */
interface Driven { readonly run: (input?: () => void) => void; readonly stop: () => void }

function drive(core: Core, sock: tls.TLSSocket, onEvent: (e: SstpEvent) => void): Driven {
  let timer: NodeJS.Timeout | undefined
  const run = (input?: () => void): void => {
    input?.()
    for (let b = core.pollTransmit(); b; b = core.pollTransmit()) if (!sock.destroyed) sock.write(b)
    for (let e = core.pollEvent(); e; e = core.pollEvent()) onEvent(e)
    clearTimeout(timer)
    const t = core.nextTimeout()
    if (t !== undefined) timer = setTimeout(() => run(() => core.handleTimeout(Date.now())), Math.max(0, t - Date.now()))
  }
  sock.on('data', (chunk: Buffer) => run(() => core.handleBytes(Date.now(), chunk)))
  sock.on('end', () => run(() => core.handleEof(Date.now())))
  sock.on('error', () => {})
  run()
  return { run, stop: () => clearTimeout(timer) }
}

test('TLS loopback: real certificate binding, up, IP each way, client disconnect', { timeout: 30_000 }, async () => {
  const ca = createCa({ commonName: 'SSTP test CA', keyBits: 2048 })
  const cert = issueServerCert(ca, { commonName: '127.0.0.1', dnsNames: [], ipAddresses: ['127.0.0.1'] })
  const der = new Uint8Array(new X509Certificate(cert.certPem).raw)
  const serverEvents: SstpEvent[] = []
  const clientEvents: SstpEvent[] = []
  const stops: (() => void)[] = []
  let serverCore: SstpServerConnection | undefined
  let serverSock: tls.TLSSocket | undefined
  let serverDrive: Driven | undefined
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' }, (sock) => {
    serverSock = sock
    const core = new SstpServerConnection({
      rng: systemRng, now: Date.now(), certHashSha256: sha256(der), certHashSha1: sha1(der),
      createPpp: (now) => new PppSession({ role: 'server', rng: systemRng, authMethods: ['mschapv2'], authName: 'gw', localAddress: '198.19.0.1', dns: ['198.19.0.53'] }, now),
    })
    serverCore = core
    serverDrive = drive(core, sock, (e) => {
      serverEvents.push(e)
      // AAA answers later, as the gateway's does: re-enter the core through the driver.
      if (e.type === 'authRequest') queueMicrotask(() => serverDrive!.run(() => core.handleAuthResult(Date.now(), verify(e.proof))))
      if (e.type === 'closed') sock.end()
    })
    stops.push(serverDrive.stop)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const sock = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, minVersion: 'TLSv1.2' })
  await new Promise<void>((r, j) => { sock.once('secureConnect', r); sock.once('error', j) })
  const client = new SstpClientConnection({
    rng: systemRng, now: Date.now(), host: '127.0.0.1', serverCertDer: new Uint8Array(sock.getPeerX509Certificate()!.raw),
    createPpp: (now) => new PppSession({ role: 'client', rng: systemRng, user: 'alice', password: PASSWORD }, now),
  })
  const clientDrive = drive(client, sock, (e) => { clientEvents.push(e); if (e.type === 'closed') sock.end() })
  stops.push(clientDrive.stop)
  const waitFor = async (what: string, f: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !f(); i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(f(), `${what}: server ${JSON.stringify(serverEvents)} client ${JSON.stringify(clientEvents)}`)
  }
  try {
    await waitFor('up', () => serverEvents.some((e) => e.type === 'up') && clientEvents.some((e) => e.type === 'up'))
    assert.equal(serverCore!.counters()['binding:ok-sha256'], 1)
    clientDrive.run(() => client.sendIp(ipPacket('198.19.0.10', '10.0.0.1', 1)))
    serverDrive!.run(() => serverCore!.sendIp(ipPacket('10.0.0.1', '198.19.0.10', 2)))
    await waitFor('ip', () => serverEvents.some((e) => e.type === 'ip') && clientEvents.some((e) => e.type === 'ip'))
    const ipIn = serverEvents.find((e) => e.type === 'ip')
    assert.equal(ipIn?.type === 'ip' && ipIn.packet[27], 1)
    clientDrive.run(() => client.close(Date.now(), 'admin', 'done'))
    await waitFor('closed', () => serverEvents.some((e) => e.type === 'closed') && clientEvents.some((e) => e.type === 'closed'))
    const closed = clientEvents.find((e) => e.type === 'closed')
    assert.equal(closed?.type === 'closed' && closed.reason, 'admin')
  } finally {
    for (const s of stops) s()
    sock.destroy()
    serverSock?.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

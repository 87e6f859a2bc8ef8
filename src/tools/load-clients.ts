// Opens N SSTP sessions from one process without TUN devices (bench and load tests): each is a real
// TLS connection, SSTP client core and PPP session through MS-CHAPv2 and IPCP. Prints "up N" when
// all are up, then holds them until SIGTERM/SIGINT, when it disconnects them all.
//   node load-clients.js HOST PORT USER N   (password on stdin)
import tls from 'node:tls'
import { SstpClientConnection } from '../sstp/client-connection.js'
import { PppSession } from '../ppp/session.js'
import { StreamDriver } from '../transport/stream-driver.js'
import { systemRng } from '../crypto/rng.js'
import { certificateHashes } from '../sstp/crypto-binding.js'

const [host = '127.0.0.1', portText = '443', user = 'alice', countText = '1'] = process.argv.slice(2)
const chunks: Buffer[] = []
for await (const c of process.stdin) chunks.push(c as Buffer)
const password = Buffer.concat(chunks).toString('utf8').split('\n')[0]!
const count = Number(countText)

interface Held { close(): void }
const held: Held[] = []
let up = 0
let failed = 0

function one(): Promise<void> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host, port: Number(portText), rejectUnauthorized: false })
    sock.once('error', (e) => { failed++; process.stderr.write(`load: ${e.message}\n`); resolve() })
    sock.once('secureConnect', () => {
      const hashes = certificateHashes(new Uint8Array(sock.getPeerX509Certificate()!.raw))
      const core = new SstpClientConnection({
        rng: systemRng, now: Date.now(), host,
        certHashSha256: hashes.sha256,
        certHashSha1: hashes.sha1,
        createPpp: (now: number) => new PppSession({ role: 'client', rng: systemRng, user, password }, now),
      })
      const driver = new StreamDriver(core, sock, (ev: { type: string; reason?: string; message?: string }) => {
        if (ev.type === 'up') { up++; resolve() }
        if (ev.type === 'closed') { driver.end(); if (up < count) { failed++; process.stderr.write(`load: closed ${ev.reason}: ${ev.message}\n`); resolve() } }
      }, (fault) => { failed++; process.stderr.write(`load: internal error: ${String(fault)}\n`); resolve() })
      driver.run(() => {})
      held.push({ close: () => driver.run(() => core.close(Date.now(), 'admin', 'load test done')) })
    })
  })
}

// A few at a time: the gateway sees a realistic ramp, not a thundering herd.
for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => one()))
process.stdout.write(`up ${up} failed ${failed}\n`)
const stop = (): void => { for (const h of held) h.close(); setTimeout(() => process.exit(0), 1500) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

// A checksummed TCP transfer for the demo, the end-to-end tests and the bench:
//   node transfer.js recv ADDR PORT        -> prints "listening", then one JSON line {bytes, sha256, ms}
//   node transfer.js send ADDR PORT BYTES  -> sends BYTES random bytes, prints one JSON line {bytes, sha256, ms}
import net from 'node:net'
import { createHash, randomFillSync } from 'node:crypto'

const [mode, addr, portText, bytesText] = process.argv.slice(2)
const port = Number(portText)

if (mode === 'recv' && addr) {
  const server = net.createServer((sock) => {
    const h = createHash('sha256')
    let n = 0
    const t0 = Date.now()
    sock.on('data', (d: Buffer) => { h.update(d); n += d.length })
    sock.on('end', () => {
      const res = JSON.stringify({ bytes: n, sha256: h.digest('hex'), ms: Date.now() - t0 })
      sock.end(res + '\n')
      process.stdout.write(res + '\n')
      server.close()
    })
  })
  server.listen(port, addr, () => process.stdout.write('listening\n'))
} else if (mode === 'send' && addr && bytesText) {
  const total = Number(bytesText)
  const h = createHash('sha256')
  const sock = net.connect(port, addr)
  const chunk = Buffer.alloc(64 * 1024)
  let sent = 0
  const t0 = Date.now()
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent)
      randomFillSync(chunk, 0, n)
      const piece = Buffer.from(chunk.subarray(0, n))
      h.update(piece)
      sent += n
      if (!sock.write(piece)) { sock.once('drain', pump); return }
    }
    sock.end()
  }
  let reply = ''
  sock.on('connect', pump)
  sock.on('data', (d: Buffer) => { reply += d.toString() })
  sock.on('end', () => {
    process.stdout.write(JSON.stringify({ bytes: sent, sha256: h.digest('hex'), ms: Date.now() - t0, receiver: reply.trim() ? JSON.parse(reply.trim()) : null }) + '\n')
  })
  sock.on('error', (e) => { process.stderr.write(`transfer: ${e.message}\n`); process.exitCode = 1 })
} else {
  process.stderr.write('usage: transfer.js recv ADDR PORT | send ADDR PORT BYTES\n')
  process.exitCode = 2
}

// StreamDriver over real loopback sockets: a fault closes only its connection; a peer that never
// reads makes the driver stop reading (bounded memory).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { StreamDriver, MAX_SOCKET_BACKLOG, type StreamCore } from '../../src/transport/stream-driver.js'

async function pair(): Promise<{ server: net.Socket; client: net.Socket; close: () => void }> {
  const srv = net.createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const port = (srv.address() as net.AddressInfo).port
  const accepted = once(srv, 'connection')
  const client = net.connect(port, '127.0.0.1')
  const [server] = (await accepted) as [net.Socket]
  return { server, client, close: () => { client.destroy(); server.destroy(); srv.close() } }
}

class EchoCore implements StreamCore<string> {
  out: Uint8Array[] = []
  events: string[] = []
  throwOnBytes = false
  reply = 1
  handleBytes(_now: number, chunk: Uint8Array): void {
    if (this.throwOnBytes) throw new Error('core bug')
    for (let i = 0; i < this.reply; i++) this.out.push(new Uint8Array(chunk.length))
  }
  handleEof(): void { this.events.push('eof') }
  handleTimeout(): void {}
  nextTimeout(): number | undefined { return undefined }
  pollTransmit(): Uint8Array | undefined { return this.out.shift() }
  pollEvent(): string | undefined { return this.events.shift() }
}

test('an exception from the core destroys only that connection and reaches onFault', async () => {
  const a = await pair()
  const b = await pair()
  const coreA = new EchoCore(); coreA.throwOnBytes = true
  const coreB = new EchoCore()
  const faults: unknown[] = []
  new StreamDriver(coreA, a.server, () => {}, (e) => faults.push(e))
  new StreamDriver(coreB, b.server, () => {}, (e) => faults.push(e))
  a.client.write('x')
  await once(a.client, 'close')
  assert.equal(faults.length, 1)
  assert.match(String(faults[0]), /core bug/)
  b.client.write('hello')
  const [echo] = (await once(b.client, 'data')) as [Buffer]
  assert.equal(echo.length, 5, 'the other connection still works')
  a.close(); b.close()
})

test('a peer that sends but never reads: the driver stops reading once the send queue is full', async () => {
  const p = await pair()
  const core = new EchoCore()
  core.reply = 64 // each input produces 64x its size in replies
  new StreamDriver(core, p.server, () => {}, () => {})
  p.client.pause() // never read
  const chunk = Buffer.alloc(16 * 1024)
  const deadline = Date.now() + 10_000
  while (!p.server.isPaused() && Date.now() < deadline) {
    p.client.write(chunk)
    await new Promise((r) => setImmediate(r))
  }
  assert.ok(p.server.isPaused(), 'reading paused')
  assert.ok(p.server.writableLength < MAX_SOCKET_BACKLOG + 64 * 64 * 1024, `send queue bounded (${p.server.writableLength})`)
  p.client.resume() // reading again lets the queue drain and the driver resume
  await once(p.server, 'drain')
  await new Promise((r) => setImmediate(r))
  assert.equal(p.server.isPaused(), false, 'reading resumed after drain')
  p.close()
})

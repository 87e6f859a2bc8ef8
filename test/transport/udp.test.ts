// UdpSocket and DatagramDriver on loopback: datagrams with their source, the core's transmits sent,
// its timer fired at its deadline, send errors counted not thrown, a faulty core stopped alone.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { UdpSocket } from '../../src/transport/udp.js'
import { DatagramDriver, type DatagramCore, type Transmit } from '../../src/transport/datagram-driver.js'
import type { Endpoint } from '../../src/lib/endpoint.js'

/** Echoes each datagram upper-cased to its sender; emits 'tick' events when its deadline passes. */
class EchoCore implements DatagramCore<string> {
  tx: Transmit[] = []
  ev: string[] = []
  deadline: number | undefined
  throwOn = ''
  handleDatagram(now: number, data: Uint8Array, from: Endpoint): void {
    const text = Buffer.from(data).toString()
    if (text === this.throwOn) throw new Error('core bug')
    this.tx.push({ to: from, data: Buffer.from(text.toUpperCase()) })
    this.ev.push(`rx ${text}`)
    void now
  }
  handleTimeout(now: number): void { if (this.deadline !== undefined && now >= this.deadline) { this.deadline = undefined; this.ev.push('tick') } }
  nextTimeout(): number | undefined { return this.deadline }
  pollTransmit(): Transmit | undefined { return this.tx.shift() }
  pollEvent(): string | undefined { return this.ev.shift() }
}

function nextMessage(s: UdpSocket): Promise<{ text: string; from: Endpoint }> {
  return new Promise((r) => s.onDatagram((d, from) => r({ text: Buffer.from(d).toString(), from })))
}

test('datagrams in with their source, transmits out, events delivered, timer fired', async () => {
  const server = await UdpSocket.bind({ address: '127.0.0.1', port: 0, what: 'test' })
  const client = await UdpSocket.bind({ address: '127.0.0.1', port: 0, what: 'test' })
  const core = new EchoCore()
  const events: string[] = []
  const driver = new DatagramDriver(core, server, (e) => events.push(e), () => assert.fail('no fault expected'))
  const reply = nextMessage(client)
  client.send(server.local, Buffer.from('hello'))
  const r = await reply
  assert.equal(r.text, 'HELLO')
  assert.deepEqual(r.from, server.local)
  assert.deepEqual(events, ['rx hello'])
  driver.run(() => { core.deadline = Date.now() + 30 })
  await new Promise((res) => setTimeout(res, 80))
  assert.deepEqual(events, ['rx hello', 'tick'])
  assert.equal(server.counters.snapshot()['rx-datagrams'], 1)
  driver.stop()
  await Promise.all([server.close(), client.close()])
})

test('a core that throws is stopped and reported; the socket and process live on', async () => {
  const server = await UdpSocket.bind({ address: '127.0.0.1', port: 0, what: 'test' })
  const client = await UdpSocket.bind({ address: '127.0.0.1', port: 0, what: 'test' })
  const core = new EchoCore()
  core.throwOn = 'boom'
  const faults: unknown[] = []
  new DatagramDriver(core, server, () => {}, (f) => faults.push(f))
  client.send(server.local, Buffer.from('boom'))
  client.send(server.local, Buffer.from('after'))
  await new Promise((res) => setTimeout(res, 50))
  assert.equal(faults.length, 1)
  assert.equal(core.ev.length, 0, 'no input after the fault')
  await Promise.all([server.close(), client.close()])
})

test('binding a port in use names the address and the fix; sending after close is counted', async () => {
  const a = await UdpSocket.bind({ address: '127.0.0.1', port: 0, what: 'IKE' })
  await assert.rejects(UdpSocket.bind({ address: '127.0.0.1', port: a.local.port, what: 'IKE' }), (e: Error & { code?: string }) =>
    e.code === 'ERR_LISTEN' && e.message.includes(`IKE on 127.0.0.1:${a.local.port}`) && e.message.includes('another service holds this port'))
  await a.close()
  a.send({ address: '127.0.0.1', port: 9 }, new Uint8Array(1))
  assert.equal(a.counters.snapshot()['tx-closed'], 1)
})

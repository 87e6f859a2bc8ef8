// GreDriver with a fake raw socket: datagrams of one event-loop turn leave in one sendMany; when that
// fails (one unreachable peer), the others still go, and each lost one is counted with its errno.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GreDriver, type GreEndpoint, type GreSocket } from '../../src/transport/gre-driver.js'
import { GreCall } from '../../src/pptp/gre/call.js'
import { Counters } from '../../src/lib/counters.js'
import { VpnError } from '../../src/lib/errors.js'

function fakeSocket(unreachable: string) {
  const sent: string[] = []
  const manyCalls: number[] = []
  const sock: GreSocket = {
    counters: new Counters(),
    send: (dest) => {
      if (dest === unreachable) throw new VpnError('ERR_RAW_SEND', `send to ${dest}: ENETUNREACH`, { cause: Object.assign(new Error('unreachable'), { code: 'ENETUNREACH' }) })
      sent.push(dest)
    },
    sendMany: (items) => {
      manyCalls.push(items.length)
      // Like sendmmsg: stops at the first failing datagram and reports an error.
      for (const it of items) { if (it.dest === unreachable) throw new VpnError('ERR_RAW_SEND', 'send batch: ENETUNREACH'); sent.push(it.dest) }
    },
    onPackets: () => {}, onError: () => {}, unref: () => {}, close: () => {},
  }
  return { sock, sent, manyCalls }
}

function endpoint(localCallId: number): GreEndpoint<never> & { queue: Uint8Array[] } {
  const gre = new GreCall({ localCallId, peerCallId: localCallId + 100, peerReceiveWindow: 64 })
  const queue: Uint8Array[] = []
  return { gre, queue, afterReceive: () => {}, handleTimeout: () => {}, nextTimeout: () => undefined, pollDatagram: () => queue.shift(), pollEvent: () => undefined }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

test('one turn, one sendMany; a failing batch is resent one by one: only the unreachable peer loses, counted by errno', async () => {
  const f = fakeSocket('198.18.99.99')
  const errors: Error[] = []
  const d = new GreDriver(f.sock, (e) => errors.push(e))
  const bad = endpoint(1), good = endpoint(2)
  const bb = d.attach('198.18.99.99', bad, () => {}, () => {})
  const gb = d.attach('198.18.0.10', good, () => {}, () => {})
  bb.run(() => { bad.queue.push(new Uint8Array(16)) })
  gb.run(() => { for (let i = 0; i < 10; i++) good.queue.push(new Uint8Array(16)) })
  await turn()
  assert.deepEqual(f.manyCalls, [11], 'one batched send for the whole turn')
  assert.equal(f.sent.filter((x) => x === '198.18.0.10').length, 10, 'the healthy peer got all 10')
  assert.equal(f.sock.counters.snapshot()['tx-error:ENETUNREACH'], 1)
  assert.equal(errors.length, 1)
  gb.run(() => { good.queue.push(new Uint8Array(16)) })
  await turn()
  assert.deepEqual(f.manyCalls, [11, 1])
  assert.equal(f.sent.length, 11)
})

test('Call IDs of one driver start at a random point and skip what the demux holds', () => {
  const starts = new Set<number>()
  for (let i = 0; i < 8; i++) starts.add(new GreDriver(fakeSocket('x').sock, () => {}).callIds.allocate()!)
  assert.ok(starts.size > 1, 'not always the same first Call ID')
})

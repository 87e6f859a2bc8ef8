// LinkDialer (router-to-router links): dial, register with its routes, redial with back-off after a drop,
// wait while the peer's own link carries the routes, close a link whose routes are taken. Manual timers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AUTH_FAILED_RETRY_MS, LinkDialer, type LinkHost, type LinkTimers } from '../../src/gateway/links.js'
import type { PptpDial, PptpDialOptions } from '../../src/client/pptp-dial.js'
import type { CarrierSession } from '../../src/gateway/sessions.js'
import type { LinkConfig } from '../../src/config/schema.js'
import { nullLogger } from '../../src/lib/log.js'
import { Backoff } from '../../src/lib/backoff.js'
import { fixedRng } from '../helpers/clock.js'

const LINK: LinkConfig = { name: 'b', protocol: 'pptp', host: '198.18.70.2', port: 1723, user: 'router-a', passwordFile: '/p', routes: ['198.18.72.0/24'] }

class ManualTimers implements LinkTimers {
  t = 0
  private q: { at: number; fn: () => void; id: number }[] = []
  private n = 0
  set(fn: () => void, ms: number): unknown { const id = ++this.n; this.q.push({ at: this.t + ms, fn, id }); return id }
  clear(h: unknown): void { this.q = this.q.filter((x) => x.id !== h) }
  now(): number { return this.t }
  /** Advances time, running due timers in order; lets awaited dials settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      this.q.sort((a, b) => a.at - b.at)
      const next = this.q[0]
      if (!next || next.at > end) break
      this.q.shift()
      this.t = next.at
      next.fn()
      await new Promise((r) => setImmediate(r))
    }
    this.t = end
  }
  get pending(): number { return this.q.length }
}

interface FakeCall { o: PptpDialOptions; closed: { reason: string; message: string } | undefined; dial: PptpDial }

function harness(opts: { held?: () => boolean; refuse?: string; failConnect?: () => boolean } = {}) {
  const timers = new ManualTimers()
  const calls: FakeCall[] = []
  const events: string[] = []
  const carriers: CarrierSession[] = []
  const host: LinkHost = {
    linkUp: (c, info) => { events.push(`up ${info.peerAddress} ${info.routes.join(',')}`); if (opts.refuse) return opts.refuse; carriers.push(c); return undefined },
    ip: (id, p) => events.push(`ip ${id.startsWith('link-b-')} ${p.length}`),
    closed: (_id, reason) => events.push(`closed ${reason}`),
    routesHeld: () => opts.held?.() ?? false,
  }
  const delays: number[] = []
  // The real back-off, without jitter so the delays are exact.
  const backoff = new Backoff(fixedRng(1), { jitter: 0 })
  const d = new LinkDialer(LINK, {
    host, password: () => 'pw', mru: 1400, echoIntervalMs: 1000, echoFailures: 3, log: nullLogger, timers,
    backoff: { up: (now) => backoff.up(now), failed: (now) => { const ms = backoff.failed(now); delays.push(ms); return ms }, get attempts() { return backoff.attempts } },
    dial: async (o) => {
      if (opts.failConnect?.()) throw new Error('198.18.70.2:1723 refused the connection')
      const call: FakeCall = { o, closed: undefined, dial: undefined as unknown as PptpDial }
      call.dial = {
        peerIp: '198.18.70.2',
        sendIp: () => {}, sendMany: () => {}, counters: () => ({}),
        close: (reason, message) => { call.closed = { reason, message }; o.onClosed(reason, message) },
      }
      calls.push(call)
      return call.dial
    },
  })
  return { d, timers, calls, events, carriers, delays }
}

const UP = { type: 'up', localAddress: '198.19.72.2', peerAddress: '198.19.72.1', dns: [], wins: [] } as const

test('dials at start, registers the link with its routes, hands packets on, unregisters on drop', async () => {
  const h = harness()
  h.d.start()
  await h.timers.advance(0)
  assert.equal(h.calls.length, 1)
  assert.equal(h.calls[0]!.o.user, 'router-a')
  assert.equal(h.calls[0]!.o.host, '198.18.70.2')
  h.calls[0]!.o.onUp(UP)
  assert.equal(h.d.state, 'up')
  assert.deepEqual(h.events, ['up 198.19.72.1 198.18.72.0/24'])
  assert.equal(h.carriers[0]!.protocol, 'pptp-link')
  h.calls[0]!.o.onIp(new Uint8Array(40))
  h.calls[0]!.o.onClosed('echo-timeout', 'no answer')
  assert.deepEqual(h.events.slice(1), ['ip true 40', 'closed echo-timeout'])
  assert.equal(h.d.state, 'waiting')
})

test('redials with growing back-off while the peer is unreachable, and comes back when it is', async () => {
  let refuse = true
  const h = harness({ failConnect: () => refuse })
  h.d.start()
  await h.timers.advance(0)
  await h.timers.advance(1000 + 2000 + 4000 + 8000)
  assert.deepEqual(h.delays, [1000, 2000, 4000, 8000, 16000], 'back-off doubles after each failed attempt')
  assert.equal(h.calls.length, 0)
  refuse = false
  await h.timers.advance(16000)
  assert.equal(h.calls.length, 1, 'redialled after the last delay')
  h.calls[0]!.o.onUp(UP)
  assert.equal(h.d.state, 'up')
})

test('a call that ends before it comes up counts as a failure: back-off grows', async () => {
  const h = harness()
  h.d.start()
  await h.timers.advance(0)
  h.calls[0]!.o.onClosed('negotiation-timeout', 'no answer')
  await h.timers.advance(1000)
  h.calls[1]!.o.onClosed('mppe-required', 'no MPPE')
  assert.deepEqual(h.delays, [1000, 2000])
  assert.deepEqual(h.events, [], 'nothing registered for a link that never came up')
})

test('a refused router password is retried only after 10 minutes (no lockout on the peer from our redials)', async () => {
  const h = harness()
  h.d.start()
  await h.timers.advance(0)
  h.calls[0]!.o.onClosed('auth-failed', 'E=691')
  await h.timers.advance(AUTH_FAILED_RETRY_MS - 1)
  assert.equal(h.calls.length, 1, 'no redial before 10 minutes')
  await h.timers.advance(1)
  assert.equal(h.calls.length, 2)
})

test('does not dial while the peer has dialled us and carries the routes; dials once they are free', async () => {
  let held = true
  const h = harness({ held: () => held })
  h.d.start()
  await h.timers.advance(0)
  await h.timers.advance(20_000)
  assert.equal(h.calls.length, 0)
  held = false
  await h.timers.advance(5000)
  assert.equal(h.calls.length, 1)
})

test('a link whose routes are taken is closed with routes-in-use and redialled later', async () => {
  const h = harness({ refuse: 'prefix 198.18.72.0/24 is carried by session pptp-1' })
  h.d.start()
  await h.timers.advance(0)
  h.calls[0]!.o.onUp(UP)
  assert.deepEqual(h.calls[0]!.closed, { reason: 'routes-in-use', message: 'prefix 198.18.72.0/24 is carried by session pptp-1' })
  assert.ok(!h.events.some((e) => e.startsWith('closed')), 'never registered, so never unregistered')
  assert.equal(h.d.state, 'waiting')
})

test('stop closes the live link and never redials', async () => {
  const h = harness()
  h.d.start()
  await h.timers.advance(0)
  h.calls[0]!.o.onUp(UP)
  h.d.stop()
  assert.deepEqual(h.calls[0]!.closed, { reason: 'admin', message: 'gateway shutting down' })
  assert.equal(h.d.state, 'stopped')
  await h.timers.advance(120_000)
  assert.equal(h.calls.length, 1)
  assert.equal(h.timers.pending, 0)
})

test('a link that stayed up 30 s or more starts the back-off over after a drop; a flapping one keeps growing it', async () => {
  const h = harness()
  h.d.start()
  await h.timers.advance(0)
  h.calls[0]!.o.onUp(UP)
  await h.timers.advance(60_000)
  h.calls[0]!.o.onClosed('echo-timeout', '')
  await h.timers.advance(1000)
  h.calls[1]!.o.onUp(UP)
  await h.timers.advance(2000)
  h.calls[1]!.o.onClosed('echo-timeout', '') // up only 2 s: counts as a failure
  assert.deepEqual(h.delays, [1000, 2000])
})

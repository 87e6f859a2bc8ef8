// Property tests (fast-check): PPP codecs round-trip and only ever throw DecodeError; the cores
// (Fsm via LCP/IPCP, PppSession) never throw on arbitrary peer bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeFrame, encodeFrame } from '../../src/ppp/frame.js'
import { decodeControlPacket, decodeOptions, encodeControlPacket, encodeOptions } from '../../src/ppp/fsm/packet.js'
import { DecodeError } from '../../src/lib/errors.js'
import { toHex } from '../../src/lib/bytes.js'
import { Pair } from './pair-harness.js'

const onlyDecodeError = (f: () => unknown): void => {
  try { f() } catch (e) { assert.ok(e instanceof DecodeError, String(e)) }
}

test('decoders only throw DecodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
    onlyDecodeError(() => decodeFrame(b))
    onlyDecodeError(() => decodeControlPacket(b))
    onlyDecodeError(() => decodeOptions(b))
  }), { numRuns: 2000 })
})

test('frame round trip for every valid protocol number and compression', () => {
  const proto = fc.tuple(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x7f })).map(([hi, lo]) => ((hi << 1) << 8) | ((lo << 1) | 1))
  fc.assert(fc.property(proto, fc.uint8Array({ maxLength: 40 }), fc.boolean(), fc.boolean(), (p, info, acfc, pfc) => {
    const f = decodeFrame(encodeFrame(p, info, { acfc, pfc }))
    assert.equal(f.protocol, p)
    assert.equal(toHex(f.info), toHex(info))
  }))
})

test('control packet and option list round trip', () => {
  const opt = fc.record({ type: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 20 }) })
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.array(opt, { maxLength: 6 }), (code, identifier, opts) => {
    const data = encodeOptions(opts)
    const back = decodeOptions(decodeControlPacket(encodeControlPacket({ code, identifier, data })).data)
    assert.deepEqual(back.map((o) => [o.type, toHex(o.data)]), opts.map((o) => [o.type, toHex(o.data)]))
  }))
})

test('a session pair survives arbitrary frames injected during negotiation and after up', () => {
  const prefix = fc.constantFrom('ff03c021', 'ff038021', 'ff03c223', 'ff030021', 'c021', '8021', '21', 'ff0380fd', '')
  fc.assert(fc.property(fc.array(fc.tuple(prefix, fc.uint8Array({ maxLength: 30 }), fc.boolean()), { maxLength: 30 }), fc.integer({ min: 0, max: 3 }), (frames, when) => {
    const p = new Pair()
    p.open()
    if (when > 0) p.run(when * 1000)
    for (const [pre, body, toServer] of frames) {
      const f = new Uint8Array(pre.length / 2 + body.length)
      f.set(Buffer.from(pre, 'hex')); f.set(body, pre.length / 2)
      ;(toServer ? p.server : p.client).handleFrame(p.clock.now, f)
    }
    p.run(70_000)
  }), { numRuns: 150 })
})

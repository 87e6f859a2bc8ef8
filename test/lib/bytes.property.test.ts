// Property tests of src/lib/bytes.ts: ByteReader only ever throws DecodeError on hostile input,
// never reads past its end, and ByteWriter/ByteReader round-trip.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteReader, ByteWriter, concatBytes, constantTimeEqual, bytesEqual, fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'

type Op = { k: 'u8' | 'u16' | 'u24' | 'u32' | 'rest' } | { k: 'bytes' | 'skip' | 'sub'; n: number }
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom<Op>({ k: 'u8' }, { k: 'u16' }, { k: 'u24' }, { k: 'u32' }, { k: 'rest' }),
  fc.record({ k: fc.constantFrom('bytes' as const, 'skip' as const, 'sub' as const), n: fc.integer({ min: -3, max: 40 }) }),
)

function run(r: ByteReader, o: Op): void {
  const start = r.offset
  switch (o.k) {
    case 'u8': { const v = r.u8(); assert.ok(v >= 0 && v <= 0xff); break }
    case 'u16': { const v = r.u16(); assert.ok(v >= 0 && v <= 0xffff); break }
    case 'u24': { const v = r.u24(); assert.ok(v >= 0 && v <= 0xffffff); break }
    case 'u32': { const v = r.u32(); assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff); break }
    case 'rest': { const v = r.rest(); assert.equal(v.length, r.end - start); break }
    case 'bytes': { const v = r.bytes(o.n); assert.equal(v.length, o.n); break }
    case 'skip': r.skip(o.n); break
    case 'sub': {
      const s = r.sub(o.n)
      assert.equal(s.remaining, o.n)
      // Reads inside the sub-reader stay inside it.
      try { while (true) s.u8() } catch (e) { assert.ok(e instanceof DecodeError) }
      assert.equal(s.offset, s.end)
      break
    }
  }
}

test('ByteReader: any sequence of reads on random input throws only DecodeError and stays in bounds', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), fc.nat(8), fc.array(op, { maxLength: 30 }), (buf, a, b, ops) => {
    const start = Math.min(a, buf.length)
    const end = Math.max(start, buf.length - b)
    const r = new ByteReader(buf, start, end)
    for (const o of ops) {
      const before = r.offset
      try {
        run(r, o)
      } catch (e) {
        assert.ok(e instanceof DecodeError, `unexpected ${String(e)}`)
        assert.equal(r.offset, before, 'a failed read does not move the offset')
      }
      assert.ok(r.offset >= start && r.offset <= end)
      assert.equal(r.remaining, end - r.offset)
    }
  }), { numRuns: 1000 })
})

test('ByteReader: a DecodeError names the field and offset', () => {
  const r = new ByteReader(fromHex('0102'))
  r.u8()
  assert.throws(() => r.u16('length'), (e: unknown) => e instanceof DecodeError && e.field === 'length' && e.offset === 1)
})

type W = { k: 'u8'; v: number } | { k: 'u16'; v: number } | { k: 'u24'; v: number } | { k: 'u32'; v: number } | { k: 'bytes'; v: Uint8Array }
const w: fc.Arbitrary<W> = fc.oneof(
  fc.record({ k: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ k: fc.constant('u16' as const), v: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ k: fc.constant('u24' as const), v: fc.integer({ min: 0, max: 0xffffff }) }),
  fc.record({ k: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 20 }) }),
)

test('ByteWriter then ByteReader round-trips any field sequence (growable and fixed targets)', () => {
  fc.assert(fc.property(fc.array(w, { maxLength: 40 }), (fields) => {
    const wr = new ByteWriter(1)
    for (const f of fields) f.k === 'bytes' ? wr.bytes(f.v) : wr[f.k](f.v)
    const out = wr.finish()
    const fixed = new ByteWriter(new Uint8Array(out.length))
    for (const f of fields) f.k === 'bytes' ? fixed.bytes(f.v) : fixed[f.k](f.v)
    assert.deepEqual(fixed.view(), out)
    const r = new ByteReader(out)
    for (const f of fields) {
      if (f.k === 'bytes') assert.deepEqual(r.bytes(f.v.length), f.v)
      else assert.equal(r[f.k](), f.v)
    }
    assert.equal(r.remaining, 0)
  }))
})

test('hex, concat and equality helpers agree with each other', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
    assert.deepEqual(fromHex(toHex(a)), a)
    const c = concatBytes(a, b)
    assert.equal(c.length, a.length + b.length)
    assert.equal(constantTimeEqual(a, b), bytesEqual(a, b))
    assert.equal(bytesEqual(c.subarray(0, a.length), a), true)
  }))
})

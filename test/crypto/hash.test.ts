// Digest and HMAC wrappers against RFC 1321, FIPS 180-2, RFC 2202 and RFC 4231 vectors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hmacMd5, hmacSha1, hmacSha256, md5, sha1, sha256 } from '../../src/crypto/hash.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { loadVectors } from './load-vectors.js'

const v = loadVectors<{ digests: { alg: string; message: string; digest: string }[]; hmacs: { alg: string; keyHex: string; message: string; mac: string }[] }>('crypto', 'hash')
const digests = { md5, sha1, sha256 } as const
const hmacs = { md5: hmacMd5, sha1: hmacSha1, sha256: hmacSha256 } as const

test(`digests and HMACs match ${v.source}`, () => {
  for (const d of v.digests) {
    const f = digests[d.alg as keyof typeof digests]
    const out = f(utf8(d.message))
    assert.ok(out instanceof Uint8Array)
    assert.equal(toHex(out), d.digest, `${d.alg} ${d.message}`)
  }
  for (const h of v.hmacs) {
    const f = hmacs[h.alg as keyof typeof hmacs]
    assert.equal(toHex(f(fromHex(h.keyHex), utf8(h.message))), h.mac, `hmac-${h.alg} ${h.message}`)
  }
})

test('multi-part input hashes the concatenation', () => {
  assert.equal(toHex(sha1(utf8('a'), utf8(''), utf8('bc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d')
  assert.equal(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want '), utf8('for nothing?'))), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
})

// SIG_I/SIG_R helpers (RFC 2409 §5.1, RFC 4754): the RSA signature is checked by raw RSA arithmetic to be
// 00 01 FF..FF 00 || HASH (PKCS#1 type 1 without DigestInfo); ECDSA is r | s and verifies; forgeries fail.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { isSignatureMethod, signAuthHash, verifyAuthHash } from '../../src/ike/v1/crypto/signature.js'
import { OakleyAuth } from '../../src/ike/v1/oakley.js'

const HASH_I = fromHex('00112233445566778899aabbccddeeff01234567') // a SHA-1 sized HASH_I

test('RSA (method 3): signature^e mod n is 00 01 FF..FF 00 || HASH_I, no DigestInfo', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const sig = signAuthHash(OakleyAuth.RsaSignatures, privateKey, HASH_I)
  assert.equal(sig.length, 128)
  const jwk = publicKey.export({ format: 'jwk' })
  const big = (b64: string): bigint => BigInt('0x' + Buffer.from(b64, 'base64url').toString('hex'))
  const n = big(jwk.n!), e = big(jwk.e!)
  let r = 1n, b = BigInt('0x' + toHex(sig)) % n, x = e
  while (x > 0n) { if (x & 1n) r = (r * b) % n; b = (b * b) % n; x >>= 1n }
  const em = r.toString(16).padStart(256, '0')
  assert.equal(em, '0001' + 'ff'.repeat(128 - 3 - 20) + '00' + toHex(HASH_I))
  assert.equal(verifyAuthHash(OakleyAuth.RsaSignatures, publicKey, HASH_I, sig), true)
  const forged = new Uint8Array(sig); forged[5] = forged[5]! ^ 1
  assert.equal(verifyAuthHash(OakleyAuth.RsaSignatures, publicKey, HASH_I, forged), false)
  assert.equal(verifyAuthHash(OakleyAuth.RsaSignatures, publicKey, fromHex('00'.repeat(20)), sig), false)
  assert.equal(verifyAuthHash(OakleyAuth.RsaSignatures, publicKey, HASH_I, sig.subarray(1)), false)
})

for (const [method, curve, len] of [[OakleyAuth.EcdsaP256Sha256, 'prime256v1', 64], [OakleyAuth.EcdsaP384Sha384, 'secp384r1', 96]] as const) {
  test(`ECDSA method ${method} (RFC 4754): r | s of ${len} bytes verifies; tampering fails; wrong method fails`, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
    const sig = signAuthHash(method, privateKey, HASH_I)
    assert.equal(sig.length, len)
    assert.equal(verifyAuthHash(method, publicKey, HASH_I, sig), true)
    const bad = new Uint8Array(sig); bad[0] = bad[0]! ^ 0x80
    assert.equal(verifyAuthHash(method, publicKey, HASH_I, bad), false)
    assert.equal(verifyAuthHash(OakleyAuth.RsaSignatures, publicKey, HASH_I, sig), false)
    assert.equal(verifyAuthHash(OakleyAuth.PreSharedKey, publicKey, HASH_I, sig), false)
  })
}

test('isSignatureMethod: RSA and ECDSA yes; PSK, DSS, RSA encryption no; signing with PSK is a RangeError', () => {
  assert.deepEqual([3, 9, 10, 11, 1, 2, 4].map(isSignatureMethod), [true, true, true, true, false, false, false])
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  assert.throws(() => signAuthHash(OakleyAuth.PreSharedKey, privateKey, HASH_I), RangeError)
})

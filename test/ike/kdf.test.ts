// IKEv1 key derivation against published vectors (NSS copies of the NIST CAVS IKEv1 KDF samples, see
// test/vectors/ike/ikev1-kdf.json) and hand-built checks of RFC 2409 §5, §5.5, App. B and RFC 3947 §3.2.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { IKE_HASHES, ikeCipher, prf } from '../../src/ike/v1/crypto/algorithms.js'
import type { IkeHash } from '../../src/ike/v1/crypto/algorithms.js'
import { deriveSkeyids, encryptionKey, expandKeymat, hashI, hashR, natDetectionHash, quickHash1, quickHash2, quickHash3, quickModeKeymat, skeyidPsk, skeyidSig } from '../../src/ike/v1/crypto/keys.js'
import { OakleyEncryption, OakleyHash } from '../../src/ike/v1/oakley.js'
import { loadVectors } from '../crypto/load-vectors.js'

interface KdfSet {
  sig: { gxy: string; ni: string; nr: string; skeyid: string }
  dae: { skeyid: string; gxy: string; ckyI: string; ckyR: string; d: string; a: string; e: string }
  psk: { psk: string; ni: string; nr: string; skeyid: string }
  appB: { key: string; out: [number, string][] }
  appBQuick: { key: string; seed: string; out: [number, string][] }
}
const v = loadVectors<{ sets: Record<string, KdfSet> }>('ike', 'ikev1-kdf')
const HASH_BY_SET: Record<string, IkeHash> = {
  sha1: IKE_HASHES[OakleyHash.Sha1]!, sha256: IKE_HASHES[OakleyHash.Sha2_256]!,
  sha384: IKE_HASHES[OakleyHash.Sha2_384]!, sha512: IKE_HASHES[OakleyHash.Sha2_512]!,
}

for (const [name, s] of Object.entries(v.sets)) {
  const h = HASH_BY_SET[name]!
  test(`NIST CAVS (via NSS) ${name}: SKEYID for signatures = prf(Ni_b | Nr_b, g^xy)`, () => {
    assert.equal(toHex(skeyidSig(h, fromHex(s.sig.ni), fromHex(s.sig.nr), fromHex(s.sig.gxy))), s.sig.skeyid)
  })
  test(`NIST CAVS (via NSS) ${name}: SKEYID for pre-shared keys = prf(psk, Ni_b | Nr_b)`, () => {
    assert.equal(toHex(skeyidPsk(h, fromHex(s.psk.psk), fromHex(s.psk.ni), fromHex(s.psk.nr))), s.psk.skeyid)
  })
  test(`NIST CAVS (via NSS) ${name}: SKEYID_d, SKEYID_a, SKEYID_e`, () => {
    const k = deriveSkeyids(h, fromHex(s.dae.skeyid), fromHex(s.dae.gxy), fromHex(s.dae.ckyI), fromHex(s.dae.ckyR))
    assert.deepEqual([toHex(k.d), toHex(k.a), toHex(k.e)], [s.dae.d, s.dae.a, s.dae.e])
  })
  for (const [len, out] of s.appB.out) {
    test(`NSS ${name}: RFC 2409 Appendix B encryption key, ${len} bytes`, () => {
      assert.equal(toHex(encryptionKey(h, fromHex(s.appB.key), len)), out)
    })
  }
  for (const [len, out] of s.appBQuick.out) {
    test(`NSS ${name}: RFC 2409 §5.5 KEYMAT expansion K1 | K2 | ..., ${len} bytes`, () => {
      assert.equal(toHex(expandKeymat(h, fromHex(s.appBQuick.key), fromHex(s.appBQuick.seed), len)), out)
    })
  }
}

// Hand-built checks: the same formulas spelled out with node:crypto directly, field by field.
const sha1 = IKE_HASHES[OakleyHash.Sha1]!
const hmac = (key: string, ...parts: string[]): string => createHmac('sha1', Buffer.from(key, 'hex')).update(Buffer.from(parts.join(''), 'hex')).digest('hex')
const gxi = 'aa'.repeat(128), gxr = 'bb'.repeat(128), ckyI = '0102030405060708', ckyR = '1112131415161718'
const saiB = '00000001000000010000000c01010000', idiiB = '01110000c0000201', idirB = '01110000c0000202'
const skeyid = '00112233445566778899aabbccddeeff00112233'

test('RFC 2409 §5 HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b), hand-built', () => {
  const x = { gxi: fromHex(gxi), gxr: fromHex(gxr), ckyI: fromHex(ckyI), ckyR: fromHex(ckyR), saiB: fromHex(saiB) }
  assert.equal(toHex(hashI(sha1, fromHex(skeyid), x, fromHex(idiiB))), hmac(skeyid, gxi, gxr, ckyI, ckyR, saiB, idiiB))
})
test('RFC 2409 §5 HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b), hand-built', () => {
  const x = { gxi: fromHex(gxi), gxr: fromHex(gxr), ckyI: fromHex(ckyI), ckyR: fromHex(ckyR), saiB: fromHex(saiB) }
  assert.equal(toHex(hashR(sha1, fromHex(skeyid), x, fromHex(idirB))), hmac(skeyid, gxr, gxi, ckyR, ckyI, saiB, idirB))
})

const skeyidA = 'a0'.repeat(20), skeyidD = 'd0'.repeat(20), ni = '11'.repeat(16), nr = '22'.repeat(16), rest = '0a000014' + '33'.repeat(16)
test('RFC 2409 §5.5 HASH(1) = prf(SKEYID_a, M-ID | rest), HASH(2) adds Ni_b, HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)', () => {
  assert.equal(toHex(quickHash1(sha1, fromHex(skeyidA), 0xdeadbeef, fromHex(rest))), hmac(skeyidA, 'deadbeef', rest))
  assert.equal(toHex(quickHash2(sha1, fromHex(skeyidA), 0xdeadbeef, fromHex(ni), fromHex(rest))), hmac(skeyidA, 'deadbeef', ni, rest))
  assert.equal(toHex(quickHash3(sha1, fromHex(skeyidA), 0xdeadbeef, fromHex(ni), fromHex(nr))), hmac(skeyidA, '00', 'deadbeef', ni, nr))
})

test('RFC 2409 §5.5 KEYMAT without PFS: K1 = prf(SKEYID_d, protocol | SPI | Ni_b | Nr_b), K2 = prf(SKEYID_d, K1 | ...)', () => {
  const seed = '03' + 'c0ffee01' + ni + nr
  const k1 = hmac(skeyidD, seed), k2 = hmac(skeyidD, k1, seed), k3 = hmac(skeyidD, k2, seed)
  // AES-256 + HMAC-SHA1 needs 32 + 20 = 52 bytes: three SHA-1 blocks.
  const km = quickModeKeymat(sha1, fromHex(skeyidD), { protocol: 3, spi: fromHex('c0ffee01'), niB: fromHex(ni), nrB: fromHex(nr) }, 52)
  assert.equal(toHex(km), (k1 + k2 + k3).slice(0, 104))
})
test('RFC 2409 §5.5 KEYMAT with PFS puts g(qm)^xy first in every block', () => {
  const g = '77'.repeat(128)
  const seed = g + '03' + 'c0ffee01' + ni + nr
  const k1 = hmac(skeyidD, seed), k2 = hmac(skeyidD, k1, seed)
  const km = quickModeKeymat(sha1, fromHex(skeyidD), { protocol: 3, spi: fromHex('c0ffee01'), niB: fromHex(ni), nrB: fromHex(nr), gqmxy: fromHex(g) }, 36)
  assert.equal(toHex(km), (k1 + k2).slice(0, 72))
})

test('RFC 2409 App. B: a 32-byte AES key from a 20-byte SHA-1 SKEYID_e is K1 | K2 truncated; a short key is a prefix', () => {
  const e = 'e0'.repeat(20)
  const k1 = hmac(e, '00'), k2 = hmac(e, k1)
  assert.equal(toHex(encryptionKey(sha1, fromHex(e), 32)), (k1 + k2).slice(0, 64))
  assert.equal(toHex(encryptionKey(sha1, fromHex(e), 16)), e.slice(0, 32))
})

test('RFC 3947 §3.2 NAT-D = HASH(CKY-I | CKY-R | IP | Port), hashed (not prf) with the negotiated hash', () => {
  const want = createHash('sha1').update(Buffer.from(ckyI + ckyR + 'c6120001' + '01f4', 'hex')).digest('hex')
  assert.equal(toHex(natDetectionHash(sha1, fromHex(ckyI), fromHex(ckyR), fromHex('c6120001'), 500)), want)
  const v6 = createHash('sha1').update(Buffer.from(ckyI + ckyR + '20010db8' + '00'.repeat(11) + '01' + '1194', 'hex')).digest('hex')
  assert.equal(toHex(natDetectionHash(sha1, fromHex(ckyI), fromHex(ckyR), fromHex('20010db8' + '00'.repeat(11) + '01'), 4500)), v6)
})

test('prf is HMAC of the negotiated hash (RFC 2409 §4); MD5 registered for old peers', () => {
  const md5 = IKE_HASHES[OakleyHash.Md5]!
  assert.equal(toHex(prf(md5, fromHex('0b'.repeat(16)), new TextEncoder().encode('Hi There'))), '9294727a3638bb1c13f48ef8158bfc9d') // RFC 2104 / RFC 2202 test 1
  assert.equal(IKE_HASHES[OakleyHash.Tiger], undefined)
})

test('cipher registry: AES needs a Key Length of 128/192/256 (RFC 3602 §5); 3DES is 24 bytes; DES refused', () => {
  assert.deepEqual([ikeCipher(OakleyEncryption.AesCbc, 256)?.keyLength, ikeCipher(OakleyEncryption.AesCbc, 128)?.blockSize], [32, 16])
  assert.equal(ikeCipher(OakleyEncryption.AesCbc, undefined), undefined)
  assert.equal(ikeCipher(OakleyEncryption.AesCbc, 64), undefined)
  assert.deepEqual([ikeCipher(OakleyEncryption.TripleDesCbc, undefined)?.keyLength, ikeCipher(OakleyEncryption.TripleDesCbc, undefined)?.blockSize], [24, 8])
  assert.equal(ikeCipher(OakleyEncryption.DesCbc, undefined), undefined)
})

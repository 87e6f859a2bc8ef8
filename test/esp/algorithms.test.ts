// The algorithm table against the IKE identifiers (RFC 2407 §4.4.4/§4.5, RFC 4106 §8.1, RFC 4868,
// RFC 7296 §3.3.2) and the KEYMAT split (encryption key [+ GCM salt] first, then integrity key).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EspEncryption, EspIntegrity, Ikev1AuthAlgorithm, Ikev1EspTransformId, Ikev2TransformId, espEncryptionForIkev1, espEncryptionForIkev2, espIntegrityForIkev1, espIntegrityForIkev2, espKeyMaterialLength, splitEspKeyMaterial } from '../../src/esp/algorithms.js'

test('IKEv1 ESP transform ids and Key Length attribute', () => {
  assert.equal(Ikev1EspTransformId.ESP_3DES, 3)
  assert.equal(Ikev1EspTransformId.ESP_AES, 12)
  assert.equal(Ikev1EspTransformId.ESP_AES_GCM_16, 20)
  assert.equal(espEncryptionForIkev1(12, 128), EspEncryption.AES_CBC_128)
  assert.equal(espEncryptionForIkev1(12, 192), EspEncryption.AES_CBC_192)
  assert.equal(espEncryptionForIkev1(12, 256), EspEncryption.AES_CBC_256)
  assert.equal(espEncryptionForIkev1(12), EspEncryption.AES_CBC_128)
  assert.equal(espEncryptionForIkev1(12, 64), undefined)
  assert.equal(espEncryptionForIkev1(3), EspEncryption.DES3_CBC)
  assert.equal(espEncryptionForIkev1(3, 192), EspEncryption.DES3_CBC)
  assert.equal(espEncryptionForIkev1(3, 128), undefined)
  assert.equal(espEncryptionForIkev1(20, 256), EspEncryption.AES_GCM16_256)
  assert.equal(espEncryptionForIkev1(20, 128), EspEncryption.AES_GCM16_128)
  for (const unknown of [2, 11, 18, 19, 0, 999]) assert.equal(espEncryptionForIkev1(unknown, 128), undefined, `id ${unknown}`)
})

test('IKEv1 Authentication Algorithm attribute values', () => {
  assert.deepEqual(Ikev1AuthAlgorithm, { HMAC_MD5: 1, HMAC_SHA: 2, HMAC_SHA2_256: 5, HMAC_SHA2_384: 6, HMAC_SHA2_512: 7 })
  assert.equal(espIntegrityForIkev1(1), EspIntegrity.HMAC_MD5_96)
  assert.equal(espIntegrityForIkev1(2), EspIntegrity.HMAC_SHA1_96)
  assert.equal(espIntegrityForIkev1(5), EspIntegrity.HMAC_SHA2_256_128)
  assert.equal(espIntegrityForIkev1(6), EspIntegrity.HMAC_SHA2_384_192)
  assert.equal(espIntegrityForIkev1(7), EspIntegrity.HMAC_SHA2_512_256)
  for (const unknown of [0, 3, 4, 8, 9]) assert.equal(espIntegrityForIkev1(unknown), undefined)
})

test('IKEv2 ids map to the same entries', () => {
  assert.equal(espEncryptionForIkev2(Ikev2TransformId.ENCR_AES_CBC, 256), EspEncryption.AES_CBC_256)
  assert.equal(espEncryptionForIkev2(Ikev2TransformId.ENCR_AES_GCM_16, 128), EspEncryption.AES_GCM16_128)
  assert.equal(espEncryptionForIkev2(Ikev2TransformId.ENCR_3DES), EspEncryption.DES3_CBC)
  assert.equal(espIntegrityForIkev2(Ikev2TransformId.AUTH_HMAC_SHA2_256_128), EspIntegrity.HMAC_SHA2_256_128)
  assert.equal(espIntegrityForIkev2(Ikev2TransformId.AUTH_HMAC_SHA1_96), EspIntegrity.HMAC_SHA1_96)
})

test('algorithm parameters: IV, block, ICV and key lengths (RFC 3602 §2-3, RFC 2451 §2, RFC 4106 §3/§8.1, RFC 2404, RFC 4868)', () => {
  for (const a of [EspEncryption.AES_CBC_128, EspEncryption.AES_CBC_192, EspEncryption.AES_CBC_256]) assert.deepEqual([a.ivLength, a.blockSize, a.aead], [16, 16, false])
  assert.deepEqual([EspEncryption.DES3_CBC.keyLength, EspEncryption.DES3_CBC.ivLength, EspEncryption.DES3_CBC.blockSize], [24, 8, 8])
  for (const a of [EspEncryption.AES_GCM16_128, EspEncryption.AES_GCM16_192, EspEncryption.AES_GCM16_256]) assert.deepEqual([a.ivLength, a.saltLength, a.icvLength, a.aead], [8, 4, 16, true])
  assert.deepEqual(Object.values(EspIntegrity).map((i) => [i.keyLength, i.icvLength]), [[16, 12], [20, 12], [32, 16], [48, 24], [64, 32]])
})

test('KEYMAT: lengths, and the split takes the encryption key (+ GCM salt) first, then the integrity key', () => {
  assert.equal(espKeyMaterialLength(EspEncryption.AES_CBC_128, EspIntegrity.HMAC_SHA1_96), 36)
  assert.equal(espKeyMaterialLength(EspEncryption.AES_CBC_256, EspIntegrity.HMAC_SHA2_256_128), 64)
  assert.equal(espKeyMaterialLength(EspEncryption.DES3_CBC, EspIntegrity.HMAC_SHA1_96), 44)
  assert.equal(espKeyMaterialLength(EspEncryption.AES_GCM16_256, undefined), 36)
  const km = Uint8Array.from({ length: 36 }, (_, i) => i)
  const k = splitEspKeyMaterial(EspEncryption.AES_CBC_128, EspIntegrity.HMAC_SHA1_96, km)
  assert.deepEqual([...k.encryptionKey], [...km.subarray(0, 16)])
  assert.deepEqual([...k.integrityKey!], [...km.subarray(16)])
  km[0] = 99
  assert.equal(k.encryptionKey[0], 0, 'copies')
  const g = splitEspKeyMaterial(EspEncryption.AES_GCM16_256, undefined, km)
  assert.equal(g.encryptionKey.length, 36)
  assert.equal(g.integrityKey, undefined)
  assert.throws(() => splitEspKeyMaterial(EspEncryption.AES_CBC_128, EspIntegrity.HMAC_SHA1_96, km.subarray(1)), RangeError)
  assert.throws(() => espKeyMaterialLength(EspEncryption.AES_GCM16_128, EspIntegrity.HMAC_SHA1_96), RangeError)
  assert.throws(() => espKeyMaterialLength(EspEncryption.AES_CBC_128, undefined), RangeError)
})

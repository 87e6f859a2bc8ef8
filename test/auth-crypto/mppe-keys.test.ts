// MPPE key derivation against RFC 3079 §3.5.1–§3.5.3, plus direction symmetry and key change.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  getAsymmetricStartKey, getMasterKey, getNewKeyFromSha, initialSessionKey, mppeStartKeys, nextSessionKey, reduceSessionKey,
} from '../../src/auth/mppe-keys.js'
import type { MppeBits } from '../../src/auth/mppe-keys.js'
import { rc4 } from '../../src/crypto/legacy/rc4.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { loadVectors } from '../crypto/load-vectors.js'

const v = loadVectors<{
  passwordHashHash: string; ntResponse: string; masterKey: string
  cases: { section: string; bits: MppeBits; keyLength: 8 | 16; sendStartKey: string; sendSessionKey: string; encryptedTestMessage?: string }[]
}>('crypto', 'mppe-keys')
const upper = (b: Uint8Array): string => toHex(b).toUpperCase()
const master = fromHex(v.masterKey)

test(`MasterKey, start keys and initial session keys match ${v.source}`, () => {
  assert.equal(upper(getMasterKey(fromHex(v.passwordHashHash), fromHex(v.ntResponse))), v.masterKey)
  assert.equal(v.cases.length, 3)
  for (const c of v.cases) {
    const start = getAsymmetricStartKey(master, c.keyLength, true, true)
    assert.equal(upper(start), c.sendStartKey, `§${c.section} start key`)
    const session = initialSessionKey(start, c.bits)
    assert.equal(upper(session), c.sendSessionKey, `§${c.section} session key`)
    if (c.encryptedTestMessage) assert.equal(upper(rc4(session, utf8('test message'))), c.encryptedTestMessage, `§${c.section} sample message`)
  }
})

test('the 40/56-bit session keys are GetNewKeyFromSHA(start, start) with the RFC 3079 §3.1/§3.2 prefixes', () => {
  const start = fromHex('8B7CDC149B993A1B')
  const raw = getNewKeyFromSha(start, start, 8)
  assert.deepEqual(raw.subarray(3), fromHex('D1269EC49FA62E3E').subarray(3))
  assert.equal(upper(reduceSessionKey(raw.slice(), 40).subarray(0, 3)), 'D1269E')
  assert.equal(upper(reduceSessionKey(raw.slice(), 56)), 'D1' + upper(raw.subarray(1)))
  assert.deepEqual(reduceSessionKey(raw.slice(), 128), raw)
})

test('server send = client receive and server receive = client send (RFC 3079 §3.4 Magic2/Magic3)', () => {
  for (const bits of [40, 128] as const) {
    const server = mppeStartKeys(master, bits, true)
    const client = mppeStartKeys(master, bits, false)
    assert.deepEqual(server.send, client.receive)
    assert.deepEqual(server.receive, client.send)
    assert.notDeepEqual(server.send, server.receive)
    assert.equal(server.send.length, bits === 128 ? 16 : 8)
  }
  // The 8-byte start key is the prefix of the 16-byte one (same SHA-1 digest, truncated).
  assert.deepEqual(getAsymmetricStartKey(master, 16, false, true).subarray(0, 8), getAsymmetricStartKey(master, 8, false, true))
})

test('nextSessionKey follows RFC 3078 §7.3: RC4(InterimKey) of InterimKey = GetNewKeyFromSHA(start, current)', () => {
  const start = fromHex('8B7CDC149B993A1BA118CB153F56DCCB')
  const k0 = initialSessionKey(start, 128)
  const interim = getNewKeyFromSha(start, k0, 16)
  const k1 = nextSessionKey(start, k0, 128)
  assert.deepEqual(k1, rc4(interim, interim))
  assert.notDeepEqual(k1, k0)
  assert.deepEqual(nextSessionKey(start, k0, 128), k1, 'deterministic')
  const k1w = nextSessionKey(start.subarray(0, 8), initialSessionKey(start.subarray(0, 8), 40), 40)
  assert.equal(upper(k1w.subarray(0, 3)), 'D1269E')
})

test('length checks throw RangeError (caller bugs, not peer input)', () => {
  assert.throws(() => getMasterKey(new Uint8Array(15), new Uint8Array(24)), RangeError)
  assert.throws(() => getMasterKey(new Uint8Array(16), new Uint8Array(23)), RangeError)
  assert.throws(() => getAsymmetricStartKey(new Uint8Array(8), 8, true, true), RangeError)
  assert.throws(() => getNewKeyFromSha(new Uint8Array(8), new Uint8Array(8), 16), RangeError)
  assert.throws(() => getNewKeyFromSha(new Uint8Array(16), new Uint8Array(16), 12), RangeError)
})

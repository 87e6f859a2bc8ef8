// SSTP crypto binding ([MS-SSTP] §3.2.5.2, §3.3.5.2.3): the §4.7 vectors, HLAK order, agree/refuse.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex } from '../../src/lib/bytes.js'
import { getAsymmetricStartKey } from '../../src/auth/mppe-keys.js'
import { buildCallConnected, chooseHashProtocol, computeCompoundMac, deriveCmk, deriveHlak, verifyCallConnected, CALL_CONNECTED_OFFSETS } from '../../src/sstp/crypto-binding.js'
import { decodeControlPacket } from '../../src/sstp/messages.js'
import { hx, loadSstpVectors } from './load-vectors.js'

interface Vec { name: string; hashProtocol: number; nonce: string; hlak: string; certHash: string; compoundMac: string; callConnected: string }
const { vectors } = loadSstpVectors<{ vectors: Vec[] }>('crypto-binding')

for (const vec of vectors) {
  test(`§4.7 ${vec.name}: CMK + Compound MAC over the zeroed Call Connected reproduce the published MAC`, () => {
    const packet = hx(vec.callConnected)
    const zeroed = packet.slice()
    const n = vec.hashProtocol === 2 ? 32 : 20
    zeroed.fill(0, CALL_CONNECTED_OFFSETS.compoundMac, CALL_CONNECTED_OFFSETS.compoundMac + n)
    const mac = computeCompoundMac(deriveCmk(hx(vec.hlak), vec.hashProtocol), vec.hashProtocol, zeroed)
    assert.deepEqual(mac, hx(vec.compoundMac))
  })

  test(`§4.7 ${vec.name}: client build gives the published packet; server verification accepts it`, () => {
    const built = buildCallConnected({ hashProtocol: vec.hashProtocol, nonce: hx(vec.nonce), certHash: hx(vec.certHash), hlak: hx(vec.hlak) })
    assert.deepEqual(built, hx(vec.callConnected))
    const certHash = hx(vec.certHash)
    const exp = { offeredBitmask: 3, nonce: hx(vec.nonce), hlak: hx(vec.hlak), certHashSha256: vec.hashProtocol === 2 ? certHash : new Uint8Array(32), certHashSha1: vec.hashProtocol === 1 ? certHash : new Uint8Array(20) }
    assert.deepEqual(verifyCallConnected(built, exp), { ok: true, hashProtocol: vec.hashProtocol })
  })
}

test('HLAK: the client (send|receive) and server (receive|send) orders of §3.2.5.2.4 give the same 32 bytes', () => {
  const masterKey = fromHex('FDECE3717A8C838CB388E527AE3CDD31') // RFC 3079 §3.5.3 MasterKey
  for (const method of ['mschapv2', 'eap-mschapv2'] as const) {
    const c = deriveHlak({ method, masterKey }, 'client')
    const s = deriveHlak({ method, masterKey }, 'server')
    assert.deepEqual(c, s)
    assert.deepEqual(c.subarray(0, 16), getAsymmetricStartKey(masterKey, 16, true, false)) // client MasterSendKey first
    assert.deepEqual(c.subarray(16), getAsymmetricStartKey(masterKey, 16, false, false))
    assert.deepEqual(s.subarray(0, 16), getAsymmetricStartKey(masterKey, 16, false, true)) // server MasterReceiveKey first
  }
  assert.deepEqual(deriveHlak(undefined, 'server'), new Uint8Array(32)) // PAP/CHAP/EAP-MD5: 32 zero bytes
})

test('hash choice: SHA-256 whenever offered, SHA-1 only when it is all that is offered', () => {
  assert.equal(chooseHashProtocol(3), 2)
  assert.equal(chooseHashProtocol(2), 2)
  assert.equal(chooseHashProtocol(1), 1)
  assert.equal(chooseHashProtocol(0), undefined)
  assert.equal(chooseHashProtocol(0xfc), undefined)
})

test('agree/refuse: a flipped bit in nonce, cert hash, MAC, or a wrong HLAK is refused; SHA-1 refused unless offered', () => {
  const masterKey = new Uint8Array(16).fill(9)
  const nonce = new Uint8Array(32).map((_, i) => i)
  const certHashSha256 = new Uint8Array(32).fill(0x55)
  const certHashSha1 = new Uint8Array(20).fill(0x66)
  const good = buildCallConnected({ hashProtocol: 2, nonce, certHash: certHashSha256, hlak: deriveHlak({ method: 'mschapv2', masterKey }, 'client') })
  const exp = { offeredBitmask: 2, nonce, certHashSha256, certHashSha1, hlak: deriveHlak({ method: 'mschapv2', masterKey }, 'server') }
  assert.deepEqual(verifyCallConnected(good, exp), { ok: true, hashProtocol: 2 })
  const flip = (off: number): Uint8Array => { const b = good.slice(); b[off]! ^= 0x01; return b }
  assert.equal(verifyCallConnected(flip(CALL_CONNECTED_OFFSETS.nonce + 5), exp).ok, false)
  for (const [off, reason] of [[CALL_CONNECTED_OFFSETS.nonce + 31, 'nonce'], [CALL_CONNECTED_OFFSETS.certHash, 'cert-hash'], [CALL_CONNECTED_OFFSETS.compoundMac + 17, 'compound-mac'], [CALL_CONNECTED_OFFSETS.hashProtocol, 'hash-protocol']] as const) {
    const r = verifyCallConnected(flip(off), exp)
    assert.equal(r.ok, false)
    if (!r.ok) assert.equal(r.reason, reason)
  }
  const wrongKey = verifyCallConnected(good, { ...exp, hlak: new Uint8Array(32) })
  assert.equal(wrongKey.ok ? 'ok' : wrongKey.reason, 'compound-mac')
  const sha1Packet = buildCallConnected({ hashProtocol: 1, nonce, certHash: certHashSha1, hlak: exp.hlak })
  assert.equal(verifyCallConnected(sha1Packet, exp).ok, false) // SHA-256 only offered
  assert.deepEqual(verifyCallConnected(sha1Packet, { ...exp, offeredBitmask: 3 }), { ok: true, hashProtocol: 1 })
  assert.equal(verifyCallConnected(good.subarray(0, 100), exp).ok, false)
  assert.equal(verifyCallConnected(new Uint8Array(112), exp).ok, false)
})

test('regression: a Call Connected inside a Node Buffer (as TLS delivers it) verifies, and decoded fields are copies', () => {
  const vec = vectors.find((x) => x.name === 'sha256')!
  const chunk = Buffer.concat([Buffer.from([0xaa, 0xbb]), Buffer.from(hx(vec.callConnected))])
  const view = chunk.subarray(2) // a Buffer view, whose slice() would alias
  const exp = { offeredBitmask: 2, nonce: hx(vec.nonce), hlak: hx(vec.hlak), certHashSha256: hx(vec.certHash) }
  assert.deepEqual(verifyCallConnected(view, exp), { ok: true, hashProtocol: 2 })
  assert.deepEqual(new Uint8Array(view), hx(vec.callConnected)) // verification did not zero the caller's MAC bytes
  const m = decodeControlPacket(view)
  chunk.fill(0)
  const a = m.attributes[0]
  assert.ok(a?.attribute === 'cryptoBinding')
  if (a?.attribute === 'cryptoBinding') assert.deepEqual(a.nonce, hx(vec.nonce))
})

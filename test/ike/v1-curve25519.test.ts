// Main mode with Curve25519 (group 31) as strongSwan 5.9 / NetworkManager-l2tp offer it by default (its
// first transform: AES-CBC-128 / SHA2-256 / group 31 / PSK), then transport mode: both ends reach childSaUp.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pair, childOf } from './v1-harness.js'
import { OakleyAuth, OakleyEncryption, OakleyGroup, OakleyHash } from '../../src/ike/v1/oakley.js'

test('a strongSwan-default phase 1 proposal (AES-128/SHA2-256/Curve25519/PSK) reaches childSaUp; the refusal log names an unsupported group', () => {
  const p = pair({ iExtra: { phase1Proposals: [{ encryption: OakleyEncryption.AesCbc, keyLength: 128, hash: OakleyHash.Sha2_256, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Curve25519, seconds: 28800 }] } })
  p.connect()
  p.settle()
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
  const up = p.events.r.find((e) => e.type === 'ikeUp')
  assert.ok(up)

  // Group 5 (MODP-1536) is not implemented: the responder's reason says which attribute it refused.
  const q = pair({ iExtra: { phase1Proposals: [{ encryption: OakleyEncryption.AesCbc, keyLength: 128, hash: OakleyHash.Sha1, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Modp1536, seconds: 28800 }] } })
  q.connect()
  q.settle()
  assert.equal(childOf(q.events.i).length, 0)
  const refused = q.events.r.find((e) => e.type === 'closed')
  assert.ok(refused && refused.type === 'closed')
  assert.match(refused.reason, /main mode 1: no proposal chosen \(p1t1: enc 7\/128 hash 2 group 5 \(unsupported\) auth 1 not accepted\)/)
})

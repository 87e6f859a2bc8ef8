// RFC 3947 §3.2 NAT discovery: the order of the NAT-D payloads we send, and the four cases on receipt
// (no NAT, NAT in front of us, in front of the peer, both), checked with hashes built by hand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { IKE_HASHES } from '../../src/ike/v1/crypto/algorithms.js'
import { addressBytes, detectNat, natDPayloads } from '../../src/ike/v1/nat-t.js'

const h = IKE_HASHES[2]!
const ckyI = fromHex('0011223344556677'), ckyR = fromHex('8899aabbccddeeff')
const natd = (ipHex: string, port: number): Uint8Array =>
  new Uint8Array(createHash('sha1').update(Buffer.from('0011223344556677' + '8899aabbccddeeff' + ipHex + port.toString(16).padStart(4, '0'), 'hex')).digest())

const gw = { address: '198.18.0.1', port: 500 }
const client = { address: '198.18.5.7', port: 500 }
const natOutside = { address: '198.18.9.9', port: 41234 }

test('addressBytes: IPv4 and IPv6 (with ::) text to bytes; junk is a DecodeError', () => {
  assert.equal(toHex(addressBytes('198.18.0.1')), 'c6120001')
  assert.equal(toHex(addressBytes('2001:db8::1')), '20010db8000000000000000000000001')
  assert.equal(toHex(addressBytes('::')), '0'.repeat(32))
  assert.equal(toHex(addressBytes('fe80:0:0:0:1:2:3:4')), 'fe800000000000000001000200030004')
  for (const bad of ['1.2.3', '256.1.1.1', 'host', '1::2::3', '12345::', '1:2:3']) assert.throws(() => addressBytes(bad), DecodeError, bad)
})

test('RFC 3947 §3.2: we send HASH(remote) first, then HASH(each local address)', () => {
  const out = natDPayloads(h, ckyI, ckyR, gw, [client])
  assert.deepEqual(out.map(toHex), [toHex(natd('c6120001', 500)), toHex(natd('c6120507', 500))])
})

test('no NAT: the peer saw our real address and its source is one of its addresses', () => {
  // The client sent [HASH(gw:500), HASH(client:500)]; the gateway received it on gw:500 from client:500.
  assert.deepEqual(detectNat(h, ckyI, ckyR, gw, client, [natd('c6120001', 500), natd('c6120507', 500)]), { localBehindNat: false, peerBehindNat: false })
})

test('peer behind NAT: the datagram came from the NAT\'s outside address, not one the client listed', () => {
  assert.deepEqual(detectNat(h, ckyI, ckyR, gw, natOutside, [natd('c6120001', 500), natd('c6120507', 500)]), { localBehindNat: false, peerBehindNat: true })
})

test('we are behind NAT: the peer hashed the address it sent to (our NAT), not ours', () => {
  // On the client: it received the gateway's reply on client:500; the gateway hashed natOutside as the client's address.
  assert.deepEqual(detectNat(h, ckyI, ckyR, client, gw, [natd('c6120909', 41234), natd('c6120001', 500)]), { localBehindNat: true, peerBehindNat: false })
})

test('both behind NAT; fewer than two NAT-D hashes is no verdict', () => {
  assert.deepEqual(detectNat(h, ckyI, ckyR, client, natOutside, [natd('c6120909', 1), natd('0a000001', 500)]), { localBehindNat: true, peerBehindNat: true })
  assert.equal(detectNat(h, ckyI, ckyR, gw, client, [natd('c6120001', 500)]), undefined)
})

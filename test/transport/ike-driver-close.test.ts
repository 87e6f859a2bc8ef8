// IkeDriver.close() (RFC 2408 §3.15: an ISAKMP SA's end is announced by a DELETE): what was queued in the turn
// close() is called still leaves, on UDP 4500 too — node:dgram resolves a send's address on a later tick and
// drops it silently once the socket is closed (found by e2e/l2tp-ipsec-nat: a NAT-T client's DELETE was lost).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { IkeDriver } from '../../src/transport/ike-driver.js'

test('close(): an IKE message queued for UDP 4500 in the same turn still reaches the peer', async () => {
  const peer = dgram.createSocket('udp4')
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()))
  const got: Buffer[] = []
  peer.on('message', (m) => got.push(m))
  const driver = await IkeDriver.open({
    bindAddress: '127.0.0.1', localAddress: '127.0.0.1', ikePort: 0, natTPort: 0, raw: false,
    ike: { psk: () => undefined },
    onChildUp: () => {}, onChildDown: () => {}, onPayload: () => {}, onError: () => {},
  })
  try {
    // What deleteIkeSa does behind a NAT: the message goes out through the EspDriver's UDP socket, marker first.
    assert.ok(driver.esp.sendIke({ address: '127.0.0.1', port: peer.address().port }, Uint8Array.of(1, 2, 3)))
    await driver.close()
    const deadline = Date.now() + 2000
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(got.map((m) => [...m]), [[0, 0, 0, 0, 1, 2, 3]], 'the Non-ESP Marker (RFC 3948 §2.2) and the message')
  } finally {
    peer.close()
  }
})

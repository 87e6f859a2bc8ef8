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

test('a peer is answered from the socket it last spoke to: heard on 4500, then a new main mode from the same address:port on 500 is answered from 500', async () => {
  const { IkeV1Endpoint } = await import('../../src/ike/v1/endpoint.js')
  const { fixedRng } = await import('../helpers/clock.js')
  const peer = dgram.createSocket('udp4')
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()))
  const got: { from: number; data: Buffer }[] = []
  peer.on('message', (m, rinfo) => got.push({ from: rinfo.port, data: m }))
  const driver = await IkeDriver.open({
    bindAddress: '127.0.0.1', localAddress: '127.0.0.1', ikePort: 0, natTPort: 0, raw: false,
    ike: { psk: () => new TextEncoder().encode('a shared key of some length') },
    onChildUp: () => {}, onChildDown: () => {}, onPayload: () => {}, onError: () => {},
  })
  const mm1 = (seed: number): Buffer => {
    const i = new IkeV1Endpoint({ local: { address: '127.0.0.1', port: peer.address().port }, rng: fixedRng(seed), psk: () => new TextEncoder().encode('x') })
    i.connect(0, { address: '127.0.0.1', port: driver.ikeLocal.port })
    return Buffer.from(i.pollTransmit()!.data)
  }
  const waitFor = async (n: number): Promise<void> => {
    const deadline = Date.now() + 2000
    while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  }
  try {
    const natT = driver.natTLocal!
    // Main mode 1 behind the Non-ESP Marker on 4500: answered from 4500.
    peer.send(Buffer.concat([Buffer.alloc(4), mm1(1)]), natT.port, '127.0.0.1')
    await waitFor(1)
    assert.equal(got[0]?.from, natT.port)
    // The same address:port now starts over on 500 (a NAT reused the mapping): answered from 500, no marker.
    peer.send(mm1(2), driver.ikeLocal.port, '127.0.0.1')
    await waitFor(2)
    assert.equal(got[1]?.from, driver.ikeLocal.port)
    assert.notDeepEqual([...got[1]!.data.subarray(0, 4)], [0, 0, 0, 0], 'no Non-ESP Marker on 500')
  } finally {
    await driver.close()
    peer.close()
  }
})

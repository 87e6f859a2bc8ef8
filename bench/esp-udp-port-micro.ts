// Micro-benchmark of the L2TP/IPsec hot path inside the gateway process, without sockets: one L2TP data
// packet up (EspUdpPort.receive: the UDP header of RFC 3193 transport mode, the flow lookup) and one down
// (EspUdpPort.send into a real AES-CBC-256/HMAC-SHA1-96 outbound SA, RFC 4303 / RFC 3602 / RFC 2404).
//   node dist/bench/esp-udp-port-micro.js [packets]      prints ns per packet, port alone and with ESP.
import { performance } from 'node:perf_hooks'
import type { Endpoint } from '../src/lib/endpoint.js'
import { systemRng } from '../src/crypto/rng.js'
import { EspEncryption, EspIntegrity } from '../src/esp/algorithms.js'
import { EspOutboundSa } from '../src/esp/sa-outbound.js'
import { encodeTransportUdp } from '../src/esp/tunnel.js'
import { EspUdpPort } from '../src/transport/esp-udp-port.js'
import type { IpsecChild } from '../src/transport/ike-driver.js'

const DATA = 1356 // an L2TP data packet carrying a full PPP frame at the L2TP/IPsec MTU

function child(): IpsecChild {
  return {
    ikeSa: 'bench', peerId: undefined, mode: 'transport', selectors: undefined, udpEncapsulated: false, suite: 'aes-cbc-256/hmac-sha1-96',
    handle: { inboundSpi: 0x1001, outboundSpi: 0x2002, peer: { address: '198.18.0.2' }, removed: false },
  }
}

/** ns per packet for `packets` rounds of receive + send; `encrypt` seals each send into a real ESP SA. */
export function portRound(packets: number, encrypt: boolean): number {
  const sa = new EspOutboundSa({
    spi: 0x2002, encryption: EspEncryption.AES_CBC_256, integrity: EspIntegrity.HMAC_SHA1_96,
    keys: { encryptionKey: new Uint8Array(32).fill(7), integrityKey: new Uint8Array(20).fill(9) }, rng: systemRng,
  })
  let sealed = 0
  const port = new EspUdpPort({
    port: 1701,
    send: (_c, p, nh) => { if (encrypt) { if (sa.encrypt(p, nh)) sealed++ } else sealed += p.length > 0 ? 1 : 0; return true },
  })
  const c = child()
  port.childUp(c)
  const inbound = encodeTransportUdp(1701, 1701, new Uint8Array(DATA).fill(0x5a))
  const reply = new Uint8Array(DATA).fill(0xa5)
  let peer: Endpoint | undefined
  port.onDatagram((_d, from) => { peer = from })
  const round = (): void => { port.receive(c, 17, inbound); port.send(peer!, reply) }
  for (let i = 0; i < 2000; i++) round() // warm-up
  const t0 = performance.now()
  for (let i = 0; i < packets; i++) round()
  const ns = ((performance.now() - t0) * 1e6) / packets
  if (sealed < packets) throw new Error('sends were refused')
  sa.close()
  return ns
}

if (process.argv[1]?.endsWith('esp-udp-port-micro.js')) {
  const n = Number(process.argv[2] ?? 200_000)
  for (let k = 0; k < 3; k++) {
    const alone = portRound(n, false)
    const withEsp = portRound(Math.ceil(n / 4), true)
    console.log(`EspUdpPort receive+send: ${alone.toFixed(0)} ns per packet pair alone; ${withEsp.toFixed(0)} ns with ESP sealing of the send`)
  }
}

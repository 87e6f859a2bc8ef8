// Interop check (run by test/esp/tshark-decode.sh, not by npm test): writes ESP packets sealed by
// our SAs — raw ESP tunnel mode and UDP-4500 transport mode, every cipher and HMAC — into a pcap,
// plus Wireshark's esp_sa table with the keys, so tshark can decrypt and verify every ICV.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { systemRng } from '../../src/crypto/rng.js'
import { setIpv4HeaderChecksum } from '../../src/ip/ipv4.js'
import { internetChecksum } from '../../src/ip/checksum.js'
import { EspEncryption as E, EspIntegrity as I } from '../../src/esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm } from '../../src/esp/algorithms.js'
import { EspOutboundSa } from '../../src/esp/sa-outbound.js'
import { encodeTransportUdp } from '../../src/esp/tunnel.js'

/** Wireshark 4.0 esp_sa algorithm names, our algorithm. */
const SUITES: readonly (readonly [string, string, EspEncryptionAlgorithm, EspIntegrityAlgorithm | undefined])[] = [
  ['AES-CBC [RFC3602]', 'HMAC-SHA-1-96 [RFC2404]', E.AES_CBC_128, I.HMAC_SHA1_96],
  ['AES-CBC [RFC3602]', 'HMAC-SHA-256-128 [RFC4868]', E.AES_CBC_256, I.HMAC_SHA2_256_128],
  ['AES-CBC [RFC3602]', 'HMAC-SHA-384-192 [RFC4868]', E.AES_CBC_192, I.HMAC_SHA2_384_192],
  ['AES-CBC [RFC3602]', 'HMAC-SHA-512-256 [RFC4868]', E.AES_CBC_128, I.HMAC_SHA2_512_256],
  ['AES-CBC [RFC3602]', 'HMAC-MD5-96 [RFC2403]', E.AES_CBC_128, I.HMAC_MD5_96],
  ['TripleDES-CBC [RFC2451]', 'HMAC-SHA-1-96 [RFC2404]', E.DES3_CBC, I.HMAC_SHA1_96],
  ['AES-GCM with 16 octet ICV [RFC4106]', 'NULL', E.AES_GCM16_128, undefined],
  ['AES-GCM with 16 octet ICV [RFC4106]', 'NULL', E.AES_GCM16_256, undefined],
]

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function ipv4(protocol: number, payload: Uint8Array, src: readonly number[], dst: readonly number[]): Uint8Array {
  const p = new Uint8Array(20 + payload.length)
  p.set([0x45, 0, p.length >> 8, p.length & 255, 0, 1, 0x40, 0, 64, protocol, 0, 0, ...src, ...dst])
  p.set(payload, 20)
  setIpv4HeaderChecksum(p)
  return p
}

function icmpEcho(seq: number): Uint8Array {
  const icmp = new Uint8Array(40)
  icmp.set([8, 0, 0, 0, 0x12, 0x34, 0, seq])
  for (let i = 8; i < 40; i++) icmp[i] = i
  const c = internetChecksum(icmp)
  icmp[2] = c >> 8; icmp[3] = c & 255
  return ipv4(1, icmp, [10, 0, 0, 1], [10, 0, 0, 2])
}

export function writeCapture(dir: string): number {
  const records: Uint8Array[] = []
  const sa: string[] = []
  SUITES.forEach(([encName, authName, enc, integ], k) => {
    const spi = 0x1000 + k
    const encryptionKey = systemRng.bytes(enc.keyLength + enc.saltLength)
    const integrityKey = integ ? systemRng.bytes(integ.keyLength) : undefined
    const out = new EspOutboundSa({ spi, encryption: enc, ...(integ ? { integrity: integ } : {}), keys: { encryptionKey, ...(integrityKey ? { integrityKey } : {}) }, rng: systemRng })
    sa.push(`"IPv4","198.18.0.1","198.18.0.2","0x${spi.toString(16).padStart(8, '0')}","${encName}","0x${hex(encryptionKey)}","${authName}","${integrityKey ? '0x' + hex(integrityKey) : ''}"`)
    for (let i = 0; i < 3; i++) {
      records.push(ipv4(50, out.encrypt(icmpEcho(i), 4)!, [198, 18, 0, 1], [198, 18, 0, 2]))
      // An L2TP ZLB (RFC 2661 §5.8) in transport mode, UDP-encapsulated on port 4500 (RFC 3948 §2.1).
      const esp = out.encrypt(encodeTransportUdp(1701, 1701, Uint8Array.of(0xc8, 0x02, 0x00, 0x0c, 0, 1, 0, 0, 0, i, 0, 0)), 17)!
      const udp = new Uint8Array(8 + esp.length)
      udp.set([0x11, 0x94, 0x11, 0x94, udp.length >> 8, udp.length & 255, 0, 0])
      udp.set(esp, 8)
      records.push(ipv4(17, udp, [198, 18, 0, 1], [198, 18, 0, 2]))
    }
  })
  // pcap, LINKTYPE_RAW (101): each record is an IPv4 packet.
  const header = Buffer.alloc(24)
  header.writeUInt32LE(0xa1b2c3d4, 0); header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6); header.writeUInt32LE(65535, 16); header.writeUInt32LE(101, 20)
  const parts: Buffer[] = [header]
  records.forEach((r, i) => {
    const h = Buffer.alloc(16)
    h.writeUInt32LE(1_700_000_000 + i, 0); h.writeUInt32LE(r.length, 8); h.writeUInt32LE(r.length, 12)
    parts.push(h, Buffer.from(r))
  })
  writeFileSync(join(dir, 'esp.pcap'), Buffer.concat(parts))
  writeFileSync(join(dir, 'esp_sa'), sa.join('\n') + '\n')
  return records.length
}

if (process.argv[1]?.endsWith('tshark-pcap.js') && process.argv[2]) console.log(writeCapture(process.argv[2]))

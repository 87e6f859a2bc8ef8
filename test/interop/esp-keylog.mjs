#!/usr/bin/env node
// Turns Gatehouse's IPsec key log (GATEHOUSE_ESP_KEYLOG=FILE, src/transport/ipsec-keylog.ts) into tshark 4.0
// options: one `uat:esp_sa:...` row per ESP SA direction (RFC 4303) and one `uat:ikev1_decryption_table:...`
// row per ISAKMP SA (RFC 2409 App. B key), printed one option value per line (the caller adds `-o`).
//   node esp-keylog.mjs KEYLOG            -> option values, one per line
//   node esp-keylog.mjs --check KEYLOG    -> exit 1 unless every line parses (and prints why)
// The key log holds secret keys: keep it with the capture, delete both after use.
import { readFileSync } from 'node:fs'

// tshark 4.0 esp_sa UAT algorithm names (epan/dissectors/packet-ipsec.c).
const ENCRYPTION = {
  'aes-cbc-128': 'AES-CBC [RFC3602]', 'aes-cbc-192': 'AES-CBC [RFC3602]', 'aes-cbc-256': 'AES-CBC [RFC3602]',
  '3des-cbc': 'TripleDES-CBC [RFC2451]',
  'aes-gcm16-128': 'AES-GCM with 16 octet ICV [RFC4106]', 'aes-gcm16-192': 'AES-GCM with 16 octet ICV [RFC4106]',
  'aes-gcm16-256': 'AES-GCM with 16 octet ICV [RFC4106]',
}
const INTEGRITY = {
  '-': 'NULL',
  'hmac-md5-96': 'HMAC-MD5-96 [RFC2403]',
  'hmac-sha1-96': 'HMAC-SHA-1-96 [RFC2404]',
  'hmac-sha2-256-128': 'HMAC-SHA-256-128 [RFC4868]',
  'hmac-sha2-384-192': 'HMAC-SHA-384-192 [RFC4868]',
  'hmac-sha2-512-256': 'HMAC-SHA-512-256 [RFC4868]',
}
const HEX = /^[0-9a-f]+$/

/** Parses the key log text; returns { esp: [...], ike: [...], errors: [...] }. */
export function parseKeyLog(text) {
  const esp = [], ike = [], errors = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const f = line.split(/\s+/)
    const bad = (why) => errors.push(`line ${i + 1}: ${why}: ${line.slice(0, 40)}…`)
    if (f[0] === 'ESP') {
      if (f.length !== 9) return bad('ESP wants 8 fields')
      const [, spi, src, dst, enc, ekey, integ, ikey, encap] = f
      if (!/^[0-9a-f]{8}$/.test(spi)) return bad('SPI')
      if (!(enc in ENCRYPTION)) return bad(`unknown encryption ${enc}`)
      if (!(integ in INTEGRITY)) return bad(`unknown integrity ${integ}`)
      if (!HEX.test(ekey)) return bad('encryption key')
      if (integ !== '-' && !HEX.test(ikey)) return bad('integrity key')
      if (encap !== 'raw' && encap !== 'udp') return bad('encapsulation')
      esp.push({ spi, src, dst, enc, ekey, integ, ikey, encap })
    } else if (f[0] === 'IKEV1') {
      if (f.length !== 5) return bad('IKEV1 wants 4 fields')
      const [, ckyI, ckyR, cipher, key] = f
      if (!/^[0-9a-f]{16}$/.test(ckyI) || !/^[0-9a-f]{16}$/.test(ckyR)) return bad('cookies')
      if (!HEX.test(key)) return bad('key')
      ike.push({ ckyI, ckyR, cipher, key })
    } else bad('unknown record')
  })
  return { esp, ike, errors }
}

/** The tshark option values (without `-o`). Addresses are wildcards: behind a NAT the outer source differs. */
export function tsharkOptions(log) {
  const out = ['esp.enable_encryption_decode:TRUE', 'esp.enable_authentication_check:TRUE', 'esp.do_esp_sequence_analysis:TRUE']
  for (const s of log.esp) {
    out.push(`uat:esp_sa:"IPv4","*","*","0x${s.spi}","${ENCRYPTION[s.enc]}","0x${s.ekey}","${INTEGRITY[s.integ]}","${s.integ === '-' ? '' : '0x' + s.ikey}"`)
  }
  for (const k of log.ike) out.push(`uat:ikev1_decryption_table:${k.ckyI},${k.key}`)
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const check = args[0] === '--check'
  const file = check ? args[1] : args[0]
  if (!file) { console.error('usage: esp-keylog.mjs [--check] KEYLOG'); process.exit(2) }
  const log = parseKeyLog(readFileSync(file, 'utf8'))
  if (log.errors.length > 0) { for (const e of log.errors) console.error(e); process.exit(1) }
  if (check) { console.log(`esp_sa=${log.esp.length} ikev1=${log.ike.length}`); process.exit(0) }
  for (const o of tsharkOptions(log)) console.log(o)
}

// Independent check of a captured SSTP session, without Wireshark's TLS/SSTP dissectors:
// decrypts the TLS 1.3 records (RFC 8446 §5.2, §7.1, §7.3) with the NSS key log and walks every
// SSTP packet ([MS-SSTP] §2.2) and PPP frame (RFC 1661 §2, §5) in both directions.
// Usage: node sstp-stream-check.mjs CAPTURE KEYLOG   (needs tshark only to reassemble TCP)
// Exit 0 when every record decrypts and every SSTP packet and PPP frame is well-formed.
import { execFileSync } from 'node:child_process'
import { createDecipheriv, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'

const [cap, keylog] = process.argv.slice(2)
if (!cap || !keylog) { console.error('usage: node sstp-stream-check.mjs CAPTURE KEYLOG'); process.exit(2) }

// One TCP connection to port 443 per capture (the guest dials once per mode).
const streams = execFileSync('tshark', ['-r', cap, '-Y', 'tcp.port==443', '-T', 'fields', '-e', 'tcp.stream'], { stdio: ['ignore', 'pipe', 'ignore'] })
  .toString().split('\n').filter(Boolean)
const streamId = [...new Set(streams)][0]
if (streamId === undefined) { console.log('no TCP stream to port 443'); process.exit(1) }
// follow,tcp,raw: one hex line per segment; lines from the second node (the server) start with a tab.
const follow = execFileSync('tshark', ['-r', cap, '-q', '-z', `follow,tcp,raw,${streamId}`], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 }).toString()
const parts = { client: [], server: [] }
for (const line of follow.split('\n')) {
  if (!/^\t?[0-9a-f]+$/.test(line)) continue
  parts[line.startsWith('\t') ? 'server' : 'client'].push(Buffer.from(line.trim(), 'hex'))
}
const wire = { client: Buffer.concat(parts.client), server: Buffer.concat(parts.server) }

const secrets = {}
for (const l of readFileSync(keylog, 'utf8').split('\n')) {
  const [label, , secret] = l.trim().split(' ')
  if (label && secret) secrets[label] = Buffer.from(secret, 'hex')
}

const problems = []
const notes = new Set()
const problem = (dir, what) => { if (problems.length < 50) problems.push(`${dir}: ${what}`); problems.count = (problems.count ?? 0) + 1 }

// RFC 8446 §7.1 HKDF-Expand-Label, with HKDF-Expand from RFC 5869 §2.3.
function expandLabel(hash, secret, label, length) {
  const full = Buffer.from(`tls13 ${label}`)
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])])
  let t = Buffer.alloc(0); let out = Buffer.alloc(0)
  for (let i = 1; out.length < length; i++) {
    t = createHmac(hash, secret).update(Buffer.concat([t, info, Buffer.from([i])])).digest()
    out = Buffer.concat([out, t])
  }
  return out.subarray(0, length)
}
const SUITES = { 0x1301: ['aes-128-gcm', 16, 'sha256'], 0x1302: ['aes-256-gcm', 32, 'sha384'], 0x1303: ['chacha20-poly1305', 32, 'sha256'] }

function records(buf) {
  const out = []
  let off = 0
  while (off + 5 <= buf.length) {
    const len = buf.readUInt16BE(off + 3)
    if (off + 5 + len > buf.length) break
    out.push({ type: buf[off], header: buf.subarray(off, off + 5), body: buf.subarray(off + 5, off + 5 + len) })
    off += 5 + len
  }
  return { out, rest: buf.length - off }
}

// The cipher suite comes from the ServerHello (first server record, RFC 8446 §4.1.3).
const serverRecs = records(wire.server)
const sh = serverRecs.out[0]?.body
let suite
if (sh && sh[0] === 2) { const sidLen = sh[38]; suite = SUITES[sh.readUInt16BE(39 + sidLen)] }
if (!suite) { console.log('no TLS 1.3 ServerHello with a known suite'); process.exit(1) }
const [cipher, keyLen, hash] = suite

function decryptStream(dir, recs, secretLabels) {
  const keys = secretLabels.map((l) => secrets[l]).filter(Boolean).map((s) => ({ key: expandLabel(hash, s, 'key', keyLen), iv: expandLabel(hash, s, 'iv', 12) }))
  let k = 0; let seq = 0n
  const app = []
  let n = 0
  for (const r of recs.out) {
    if (r.type !== 23) continue // handshake in the clear, ChangeCipherSpec
    let plain
    for (let attempt = k; attempt < keys.length && plain === undefined; attempt++) {
      const s = attempt === k ? seq : 0n
      const nonce = Buffer.from(keys[attempt].iv)
      for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((s >> BigInt(8 * i)) & 0xffn)
      try {
        const d = createDecipheriv(cipher, keys[attempt].key, nonce, { authTagLength: 16 })
        d.setAAD(r.header)
        d.setAuthTag(r.body.subarray(r.body.length - 16))
        plain = Buffer.concat([d.update(r.body.subarray(0, r.body.length - 16)), d.final()])
        if (attempt !== k) { k = attempt; seq = 0n }
      } catch { /* wrong key or sequence: try the next traffic secret */ }
    }
    if (plain === undefined) { problem(dir, `record ${n} (seq ${seq}) does not decrypt`); n++; continue }
    seq++; n++
    let end = plain.length - 1
    while (end >= 0 && plain[end] === 0) end--
    const ctype = plain[end]
    if (ctype === 23) app.push(plain.subarray(0, end))
    else if (ctype === 21) app.push(Buffer.alloc(0)) // alert (close_notify)
  }
  return { data: Buffer.concat(app), records: n }
}

const PPP_NAMES = { 0x0021: 'IPv4', 0x0057: 'IPv6', 0x8021: 'IPCP', 0x8057: 'IPv6CP', 0x80fd: 'CCP', 0xc021: 'LCP', 0xc023: 'PAP', 0xc223: 'CHAP', 0xc227: 'EAP' }
const SSTP_MSG = { 1: 'CALL_CONNECT_REQUEST', 2: 'CALL_CONNECT_ACK', 3: 'CALL_CONNECT_NAK', 4: 'CALL_CONNECTED', 5: 'CALL_ABORT', 6: 'CALL_DISCONNECT', 7: 'CALL_DISCONNECT_ACK', 8: 'ECHO_REQUEST', 9: 'ECHO_RESPONSE' }

function checkPpp(dir, f, counts) {
  const hasAc = f[0] === 0xff && f[1] === 0x03 // Address and Control, absent under ACFC (RFC 1661 §6.6)
  let o = hasAc ? 2 : 0
  if (o + 1 > f.length) return problem(dir, 'empty PPP frame')
  // PFC (RFC 1661 §6.5): a protocol field with an odd first octet is one octet long.
  let proto
  if (f[o] & 1) { proto = f[o]; o += 1 } else { if (o + 2 > f.length) return problem(dir, 'short PPP protocol'); proto = f.readUInt16BE(o); o += 2 }
  if ((proto & 0x0100) !== 0 || (proto & 1) === 0) problem(dir, `invalid PPP protocol 0x${proto.toString(16)}`)
  const name = PPP_NAMES[proto] ?? `0x${proto.toString(16)}`
  const info = f.subarray(o)
  if (proto >= 0x8000) {
    // RFC 1661 §5: Code, Identifier, Length; octets beyond Length are padding, fewer is malformed.
    if (info.length < 4) return problem(dir, `${name} shorter than its header`)
    const len = info.readUInt16BE(2)
    if (len < 4 || len > info.length) problem(dir, `${name} code ${info[0]} Length ${len} vs ${info.length} octets`)
    counts[`${name} code ${info[0]}`] = (counts[`${name} code ${info[0]}`] ?? 0) + 1
    // RFC 1661 §6.6: "The Address and Control fields MUST NOT be compressed when sending any LCP
    // packet." (An observation here, not counted: SSTP carries PPP without HDLC framing.)
    if (proto === 0xc021 && !hasAc) notes.add(`${dir}: LCP code ${info[0]} sent without Address/Control`)
    if ((proto === 0xc021 || proto === 0x8021) && [1, 2, 3, 4].includes(info[0])) {
      // Configure-* packets: options are Type, Length (>= 2) and must tile the packet exactly.
      let p = 4
      while (p < len) { const ol = info[p + 1]; if (ol === undefined || ol < 2 || p + ol > len) { problem(dir, `${name} code ${info[0]}: bad option at ${p}`); break } p += ol }

    }
  } else {
    counts[name] = (counts[name] ?? 0) + 1
    if (proto === 0x0021 && (info.length < 20 || info[0] >> 4 !== 4 || info.readUInt16BE(2) !== info.length)) problem(dir, `IPv4 header/total length mismatch (${info.length} octets)`)
  }
}

function checkSstp(dir, data) {
  // Skip the HTTP preamble (request or response head, [MS-SSTP] §3.2.4.1 / §3.3.4.1).
  const head = data.indexOf('\r\n\r\n')
  if (head < 0) { problem(dir, 'no HTTP head'); return {} }
  const counts = {}
  let off = head + 4; let packets = 0
  while (off + 4 <= data.length) {
    const ver = data[off]; const flags = data[off + 1]; const lenField = data.readUInt16BE(off + 2)
    const len = lenField & 0x0fff
    if (ver !== 0x10) { problem(dir, `SSTP version 0x${ver.toString(16)} at stream offset ${off}`); break }
    if ((flags & 0xfe) !== 0 || (lenField & 0xf000) !== 0) problem(dir, `SSTP reserved bits set at ${off}`)
    if (len < 4) { problem(dir, `SSTP length ${len} at ${off}`); break }
    if (off + len > data.length) { problem(dir, `SSTP packet at ${off} truncated (${len} > ${data.length - off})`); break }
    const body = data.subarray(off + 4, off + len)
    packets++
    if (flags & 1) {
      if (body.length < 4) { problem(dir, 'SSTP control packet too short'); off += len; continue }
      const type = body.readUInt16BE(0); const nattr = body.readUInt16BE(2)
      const name = SSTP_MSG[type] ?? `type ${type}`
      counts[`SSTP ${name}`] = (counts[`SSTP ${name}`] ?? 0) + 1
      let p = 4
      for (let i = 0; i < nattr; i++) {
        if (p + 4 > body.length) { problem(dir, `${name}: attribute ${i} header past the end`); break }
        const alen = body.readUInt16BE(p + 2) & 0x0fff
        if (alen < 4 || p + alen > body.length) { problem(dir, `${name}: attribute ${i} length ${alen}`); break }
        p += alen
      }
      if (p !== body.length) problem(dir, `${name}: ${body.length - p} octets after the attributes`)
    } else {
      checkPpp(dir, body, counts)
    }
    off += len
  }
  if (off !== data.length) problem(dir, `${data.length - off} octets left after the last SSTP packet`)
  return { counts, packets }
}

let ok = true
for (const [dir, labels] of [['client->gateway', ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0']], ['gateway->client', ['SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0']]]) {
  const recs = dir.startsWith('client') ? records(wire.client) : serverRecs
  const { data, records: n } = decryptStream(dir, recs, labels)
  const { counts = {}, packets = 0 } = checkSstp(dir, data)
  console.log(`${dir}: ${wire[dir.startsWith('client') ? 'client' : 'server'].length} TCP octets, ${n} encrypted records, ${data.length} octets of application data, ${packets} SSTP packets${recs.rest ? `, ${recs.rest} octets of an incomplete record at the end` : ''}`)
  console.log('  ' + Object.entries(counts).sort().map(([k, v]) => `${k}: ${v}`).join(', '))
}
for (const n of notes) console.log(`  note: ${n}`)
if (problems.count) {
  ok = false
  console.log(`PROBLEMS (${problems.count}):`)
  for (const p of problems) console.log('  ' + p)
} else {
  console.log('every record decrypted; every SSTP packet and PPP frame well-formed')
}
process.exit(ok ? 0 : 1)

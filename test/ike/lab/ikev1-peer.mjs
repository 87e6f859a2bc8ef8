// Our IKEv1 endpoint on real UDP sockets for the strongSwan lab runs (strongswan-ikev1.sh): initiator or
// responder, ECDSA certificates from the current directory (ca.crt, NAME.crt, NAME.key) or PSK=... for aggressive mode.
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import { X509Certificate, randomBytes } from 'node:crypto'
const W = process.env.WT ?? new URL('../../..', import.meta.url).pathname.replace(/\/$/, '')
const { IkeV1Endpoint } = await import(`${W}/dist/src/ike/v1/endpoint.js`)
const { hostSelector } = await import(`${W}/dist/src/ike/v1/tasks/quick-mode.js`)
const mode = process.argv[2] ?? 'initiator'
const LOCAL = mode === 'initiator' ? '198.18.77.2' : '198.18.77.1', PEER = mode === 'initiator' ? '198.18.77.1' : '198.18.77.2'
const who = process.argv[3] ?? 'client'
const PSK = process.env.PSK
const fqdn = (n) => ({ idType: 2, data: new TextEncoder().encode(n) })
const ep = new IkeV1Endpoint({
  local: { address: LOCAL, port: 500 }, rng: { bytes: (n) => new Uint8Array(randomBytes(n)) },
  psk: (peer, id) => { console.log('PSK LOOKUP', peer.address, id && Buffer.from(id.data).toString()); return PSK ? new TextEncoder().encode(PSK) : undefined },
  ...(PSK ? { aggressive: true, localId: fqdn(`${who}.ike2e.lab`) } : {
  credentials: { certDer: new Uint8Array(new X509Certificate(readFileSync(`${who}.crt`)).raw), keyPem: readFileSync(`${who}.key`, 'utf8') },
  trust: { anchors: [new X509Certificate(readFileSync('ca.crt'))], wallClock: () => Date.now() } }),
  mode: 'tunnel', ...(process.env.HASH ? { phase1Proposals: [{ encryption: 7, keyLength: 256, hash: Number(process.env.HASH), authMethod: Number(process.env.AUTH ?? 10), group: 14, seconds: 28800 }] } : {}), ...(process.env.FRAG ? { fragmentation: { fragmentSize: Number(process.env.FRAG) } } : {}),
})
const t0 = performance.now(), now = () => Math.floor(performance.now() - t0)
const s500 = dgram.createSocket('udp4'), s4500 = dgram.createSocket('udp4')
await new Promise((r) => s500.bind(500, LOCAL, r)); await new Promise((r) => s4500.bind(4500, LOCAL, r))
const flush = () => {
  for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) {
    if (t.to.port === 4500 || t.to.port !== 500) s4500.send(Buffer.concat([Buffer.alloc(4), t.data]), t.to.port, t.to.address)
    else s500.send(t.data, t.to.port, t.to.address)
  }
  for (let e = ep.pollEvent(); e; e = ep.pollEvent()) {
    console.log('EVENT', JSON.stringify(e, (k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v)).slice(0, 400))
    if (e.type === 'childSaUp' || e.type === 'closed') setTimeout(() => { console.log('COUNTERS', JSON.stringify(ep.counters())); process.exit(e.type === 'childSaUp' ? 0 : 1) }, 300)
  }
}
s500.on('message', (m, r) => { ep.handleDatagram(now(), new Uint8Array(m), { address: r.address, port: r.port }); flush() })
s4500.on('message', (m, r) => { if (m.length < 4 || m.readUInt32BE(0) !== 0) return; ep.handleDatagram(now(), new Uint8Array(m.subarray(4)), { address: r.address, port: r.port }); flush() })
setInterval(() => { ep.handleTimeout(now()); flush() }, 100)
if (mode === 'initiator') {
  ep.connect(now(), { address: PEER, port: 500 }, { mode: 'tunnel', selectors: { local: hostSelector(Uint8Array.of(198, 19, 2, 1)), remote: hostSelector(Uint8Array.of(198, 19, 1, 1)) } }, PSK ? { aggressive: true, id: fqdn(`${who}.ike2e.lab`) } : undefined)
  flush()
}
setTimeout(() => { console.log('TIMEOUT', JSON.stringify(ep.counters())); process.exit(2) }, Number(process.env.WAIT ?? 20000))

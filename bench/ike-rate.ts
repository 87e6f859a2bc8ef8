// IKEv1 set-up rate, in process (RFC 2409 §5 main mode, §5.5 quick mode): an initiator and a responder
// IkeV1Endpoint exchange datagrams in memory (sans-IO, no sockets) until both report ikeUp / childSaUp.
//   node dist/bench/ike-rate.js [maxMs per row]      (bounded: maxMs and MAX_COUNT SAs per row)
import { X509Certificate } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Endpoint } from '../src/lib/endpoint.js'
import { systemRng } from '../src/crypto/rng.js'
import { IkeV1Endpoint } from '../src/ike/v1/endpoint.js'
import type { ChildSaRequest, IkeV1EndpointOptions, IkeV1Event } from '../src/ike/v1/endpoint.js'
import { DH_GROUPS } from '../src/ike/v1/crypto/dh.js'
import { OakleyAuth, OakleyEncryption, OakleyGroup, OakleyHash } from '../src/ike/v1/oakley.js'
import type { Phase1Transform } from '../src/ike/v1/proposal/transforms.js'
import { hostSelector } from '../src/ike/v1/tasks/quick-mode.js'
import { addressBytes } from '../src/ike/v1/nat-t.js'
import { createCa, loadCa } from '../src/pki/ca.js'
import { issueCert } from '../src/pki/issue.js'
import type { IssuedCert } from '../src/pki/issue.js'

const R_ADDR = '198.18.0.1'
/** Upper bound of SAs per row, whatever the time bound; the responder keeps every SA it made until the row ends. */
export const MAX_COUNT = 400

export type IkeAuth = 'psk' | 'rsa' | 'ecdsa'

export interface RateResult {
  readonly label: string
  readonly count: number
  /** Wall time of the set-ups alone (both ends in this one thread; deletes and endpoint creation excluded). */
  readonly ms: number
  /** SAs per second with both ends in one thread. */
  readonly perSecond: number
  /** Time spent inside the responder (handleDatagram + draining), per SA: what a gateway pays. */
  readonly responderMsPerSa: number
}

type Side = 'i' | 'r'

/** Moves datagrams between the two endpoints until both are quiet; returns the responder's share of the time. */
function pump(i: IkeV1Endpoint, r: IkeV1Endpoint, iAddr: string, now: number, onEvent: (side: Side, e: IkeV1Event) => void): number {
  let rMs = 0
  for (let guard = 0; guard < 200; guard++) {
    let moved = false
    for (let t = i.pollTransmit(); t; t = i.pollTransmit()) {
      moved = true
      const t0 = performance.now()
      r.handleDatagram(now, t.data, { address: iAddr, port: t.to.port })
      rMs += performance.now() - t0
    }
    for (let e = i.pollEvent(); e; e = i.pollEvent()) onEvent('i', e)
    const t0 = performance.now()
    const out: { data: Uint8Array; to: Endpoint }[] = []
    for (let t = r.pollTransmit(); t; t = r.pollTransmit()) out.push(t)
    const evs: IkeV1Event[] = []
    for (let e = r.pollEvent(); e; e = r.pollEvent()) evs.push(e)
    rMs += performance.now() - t0
    for (const e of evs) onEvent('r', e)
    for (const t of out) { moved = true; i.handleDatagram(now, t.data, { address: R_ADDR, port: t.to.port === 500 ? 500 : 4500 }) }
    if (!moved) return rMs
  }
  throw new Error('IKE pair did not settle (a bench bug or a regression in the core)')
}

interface Credentials { readonly i: Partial<IkeV1EndpointOptions>; readonly r: Partial<IkeV1EndpointOptions>; readonly method: number }

let certCache: { rsa?: Credentials; ecdsa?: Credentials } = {}

/** A CA, a gateway certificate (naming R_ADDR) and a client certificate, as `gatehouse init` / `ca issue` make them. */
function certCredentials(keyType: 'rsa' | 'ecdsa'): Credentials {
  const cached = certCache[keyType]
  if (cached) return cached
  const caPem = createCa({ commonName: 'Gatehouse Bench CA' })
  const ca = loadCa(caPem)
  const server = issueCert(ca, { kind: 'server', commonName: 'vpn.bench', dnsNames: ['vpn.bench'], ipAddresses: [R_ADDR], keyType })
  const client = issueCert(ca, { kind: 'client', commonName: 'laptop.bench', keyType })
  const trust = { anchors: [new X509Certificate(caPem.certPem)], wallClock: () => Date.now() }
  const creds = (c: IssuedCert): Partial<IkeV1EndpointOptions> => ({ credentials: { certDer: new Uint8Array(new X509Certificate(c.certPem).raw), keyPem: c.keyPem }, trust })
  const method = keyType === 'rsa' ? OakleyAuth.RsaSignatures : OakleyAuth.EcdsaP256Sha256
  const out = { i: creds(client), r: { ...creds(server), authMethods: [method] }, method }
  certCache = { ...certCache, [keyType]: out }
  return out
}

/** One phase 1 suite: AES-CBC-256 / SHA2-256 (the first of DEFAULT_PHASE1_PROPOSALS) with this group and method. */
function suite(group: number, authMethod: number): Phase1Transform {
  return { encryption: OakleyEncryption.AesCbc, keyLength: 256, hash: OakleyHash.Sha2_256, authMethod, group, seconds: 28800 }
}

const PSK = new TextEncoder().encode('bench pre-shared key, 32 chars!!')

function responder(extra: Partial<IkeV1EndpointOptions>, phase1: Phase1Transform): IkeV1Endpoint {
  return new IkeV1Endpoint({
    local: { address: R_ADDR, port: 500 }, rng: systemRng, psk: () => PSK, dpd: false, mode: 'transport',
    phase1Proposals: [phase1], acceptPhase1: (t) => t.group === phase1.group && t.authMethod === phase1.authMethod,
    // Each bench initiator has its own address; the bound is on the row's count, not per source.
    halfOpenTotal: MAX_COUNT + 10, ...extra,
  })
}

function l2tpChild(iAddr: string, pfsGroup?: number): ChildSaRequest {
  return {
    mode: 'transport', ...(pfsGroup !== undefined ? { pfsGroup } : {}),
    selectors: { local: hostSelector(addressBytes(iAddr), 17, 1701), remote: hostSelector(addressBytes(R_ADDR), 17, 1701) },
  }
}

const groupName = (g: number): string => `${DH_GROUPS[g]?.name ?? `group ${g}`} (group ${g})`
const authName = (a: IkeAuth): string => a === 'psk' ? 'PSK' : a === 'rsa' ? 'RSA-2048 certificates' : 'ECDSA P-256 certificates'

/**
 * Main mode SAs per second: for each SA a fresh initiator (its own address, as separate clients are) runs
 * MM1..MM6 against one responder until both ends report ikeUp. With `child`, quick mode follows (QM1..QM3,
 * the transport-mode L2TP SA) and the SA counts once both report childSaUp. Stops at maxCount or maxMs.
 */
export function mainModeRate(o: { auth: IkeAuth; group: number; child: boolean; maxCount: number; maxMs: number }): RateResult {
  const creds = o.auth === 'psk' ? undefined : certCredentials(o.auth)
  const phase1 = suite(o.group, creds?.method ?? OakleyAuth.PreSharedKey)
  const r = responder(creds?.r ?? {}, phase1)
  let count = 0, ms = 0, rMs = 0
  while (count < o.maxCount && ms < o.maxMs) {
    const iAddr = `198.18.${2 + (count >> 8)}.${count & 0xff}`
    const i = new IkeV1Endpoint({ local: { address: iAddr, port: 500 }, rng: systemRng, psk: () => PSK, dpd: false, phase1Proposals: [phase1], ...creds?.i })
    let iUp = false, rUp = false
    const want = o.child ? 'childSaUp' : 'ikeUp'
    const t0 = performance.now()
    i.connect(count, { address: R_ADDR, port: 500 }, o.child ? l2tpChild(iAddr) : undefined)
    rMs += pump(i, r, iAddr, count, (side, e) => {
      if (e.type === want) { if (side === 'i') iUp = true; else rUp = true }
      // Certificate rows: every bench client holds the same certificate, so each new SA's INITIAL-CONTACT
      // (RFC 2407 §4.6.3.3) retires the previous client's SA on the responder; that is expected here.
      if ((e.type === 'closed' && !e.reason.startsWith('replaced')) || e.type === 'childSaFailed') throw new Error(`bench SA failed (${side}): ${e.reason}`)
    })
    ms += performance.now() - t0
    if (!iUp || !rUp) throw new Error(`bench SA ${count} did not come up (initiator ${iUp}, responder ${rUp})`)
    count++
  }
  const what = o.child ? 'IKE main + quick mode (L2TP SA)' : 'IKE main mode (AES-256/SHA2-256)'
  return result(`${what}, ${authName(o.auth)}, ${groupName(o.group)}`, count, ms, rMs)
}

/** Quick mode alone: transport-mode children on one established PSK ISAKMP SA, without PFS or with a PFS group. */
export function quickModeRate(o: { pfsGroup?: number; maxCount: number; maxMs: number }): RateResult {
  const phase1 = suite(OakleyGroup.Modp2048, OakleyAuth.PreSharedKey)
  const r = responder({}, phase1)
  const iAddr = '198.18.2.0'
  const i = new IkeV1Endpoint({ local: { address: iAddr, port: 500 }, rng: systemRng, psk: () => PSK, dpd: false, phase1Proposals: [phase1] })
  let sa: string | undefined
  const name = i.connect(0, { address: R_ADDR, port: 500 })
  pump(i, r, iAddr, 0, (side, e) => { if (side === 'i' && e.type === 'ikeUp') sa = e.sa })
  if (sa !== name) throw new Error('bench ISAKMP SA did not come up')
  let count = 0, ms = 0, rMs = 0
  while (count < o.maxCount && ms < o.maxMs) {
    let iUp = false, rUp = false
    const t0 = performance.now()
    if (i.createChildSa(count, sa, l2tpChild(iAddr, o.pfsGroup)) === undefined) throw new Error('createChildSa refused')
    rMs += pump(i, r, iAddr, count, (side, e) => {
      if (e.type === 'childSaUp') { if (side === 'i') iUp = true; else rUp = true }
      if (e.type === 'closed' || e.type === 'childSaFailed') throw new Error(`bench quick mode failed (${side}): ${e.reason}`)
    })
    ms += performance.now() - t0
    if (!iUp || !rUp) throw new Error(`bench quick mode ${count} did not complete`)
    count++
  }
  const pfs = o.pfsGroup === undefined ? 'no PFS' : `PFS ${groupName(o.pfsGroup)}`
  return result(`IKE quick mode alone (ESP AES-CBC-256/HMAC-SHA1-96), ${pfs}`, count, ms, rMs)
}

function result(label: string, count: number, ms: number, rMs: number): RateResult {
  return { label, count, ms, perSecond: (count * 1000) / Math.max(ms, 1e-3), responderMsPerSa: rMs / Math.max(count, 1) }
}

/** The bench rows: [label, figure]. Bounded: each row stops at `maxMs` of set-up time or MAX_COUNT SAs. */
export function ikeRateRows(maxMs: number): [string, string][] {
  const n = { maxCount: MAX_COUNT, maxMs }
  // Warm-up (not reported): the first row would otherwise pay for JIT compilation of the IKE code.
  mainModeRate({ auth: 'psk', group: OakleyGroup.Modp2048, child: true, maxCount: 30, maxMs: 1000 })
  const results = [
    mainModeRate({ auth: 'psk', group: OakleyGroup.Modp1024, child: false, ...n }),
    mainModeRate({ auth: 'psk', group: OakleyGroup.Modp2048, child: false, ...n }),
    mainModeRate({ auth: 'psk', group: OakleyGroup.Ecp256, child: false, ...n }),
    mainModeRate({ auth: 'rsa', group: OakleyGroup.Modp2048, child: false, ...n }),
    mainModeRate({ auth: 'ecdsa', group: OakleyGroup.Ecp256, child: false, ...n }),
    mainModeRate({ auth: 'psk', group: OakleyGroup.Modp2048, child: true, ...n }),
    mainModeRate({ auth: 'rsa', group: OakleyGroup.Modp2048, child: true, ...n }),
    quickModeRate({ ...n }),
    quickModeRate({ pfsGroup: OakleyGroup.Modp2048, ...n }),
  ]
  return results.map((x) => [
    x.label,
    `${x.perSecond.toFixed(0)} SAs/s (${x.count} in ${(x.ms / 1000).toFixed(1)} s, both ends in one thread); responder ${x.responderMsPerSa.toFixed(2)} ms CPU per SA`,
  ])
}

if (process.argv[1]?.endsWith('ike-rate.js')) {
  const rows = ikeRateRows(Number(process.argv[2] ?? 2000))
  const w = Math.max(...rows.map((r) => r[0].length))
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n')
}

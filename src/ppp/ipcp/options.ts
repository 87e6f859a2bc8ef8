// IPCP Configuration Options: RFC 1332 §3 (IP-Compression-Protocol 2, IP-Address 3) and
// RFC 1877 §1 (Primary/Secondary DNS 129/131, Primary/Secondary NBNS 130/132).
import type { OptionTable, PppOption } from '../fsm/packet.js'
import { u32Option, readU32 } from '../fsm/packet.js'

export const IpcpOption = {
  IpAddresses: 1, // deprecated (RFC 1332 §3.1); rejected
  IpCompressionProtocol: 2,
  IpAddress: 3,
  PrimaryDns: 129,
  PrimaryNbns: 130,
  SecondaryDns: 131,
  SecondaryNbns: 132,
} as const

export const IPCP_OPTIONS: OptionTable = {
  [IpcpOption.IpAddress]: { name: 'IP-Address', minLength: 6, maxLength: 6 },
  [IpcpOption.PrimaryDns]: { name: 'Primary-DNS-Address', minLength: 6, maxLength: 6 },
  [IpcpOption.PrimaryNbns]: { name: 'Primary-NBNS-Address', minLength: 6, maxLength: 6 },
  [IpcpOption.SecondaryDns]: { name: 'Secondary-DNS-Address', minLength: 6, maxLength: 6 },
  [IpcpOption.SecondaryNbns]: { name: 'Secondary-NBNS-Address', minLength: 6, maxLength: 6 },
}

/** Dotted IPv4 to u32; undefined when not a dotted quad. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  let v = 0
  for (let i = 1; i <= 4; i++) { const b = Number(m[i]); if (b > 255) return undefined; v = v * 256 + b }
  return v
}

export function formatIpv4(v: number): string { return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}` }
export function addressOption(type: number, v: number): PppOption { return u32Option(type, v) }
export function optionAddress(o: PppOption): number { return readU32(o.data) }

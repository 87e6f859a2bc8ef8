// LCP Authentication-Protocol option data (RFC 1661 §6.2, RFC 1994 §3, RFC 2759 §2, RFC 3748 §4.1):
// the option's Data field after Type and Length, mapped to and from the methods Gatehouse negotiates.
import type { PppAuthMethod } from './types.js'

/** PPP protocol numbers of the authentication protocols (RFC 1661 §6.2, RFC 3748 §4.1). */
export const AuthProtocol = {
  PAP: 0xc023,
  CHAP: 0xc223,
  EAP: 0xc227,
} as const

/** CHAP Algorithm octets (RFC 1994 §3; RFC 2759 §2: 0x81 is MS-CHAPv2; 0x80 MS-CHAPv1 is not supported). */
export const ChapAlgorithm = {
  MD5: 0x05,
  MSCHAPV2: 0x81,
} as const

/**
 * The option data for `method`: c023 (PAP), c223 05 (CHAP-MD5), c223 81 (MS-CHAPv2), c227 (EAP).
 * Returns a fresh array.
 */
export function encodeAuthOption(method: PppAuthMethod): Uint8Array {
  switch (method) {
    case 'pap': return Uint8Array.of(0xc0, 0x23)
    case 'chap-md5': return Uint8Array.of(0xc2, 0x23, ChapAlgorithm.MD5)
    case 'mschapv2': return Uint8Array.of(0xc2, 0x23, ChapAlgorithm.MSCHAPV2)
    case 'eap': return Uint8Array.of(0xc2, 0x27)
  }
}

/**
 * The method named by option data, or undefined for anything we do not speak (CHAP with another
 * algorithm such as 0x80 MS-CHAPv1, unknown protocols, wrong lengths). Never throws: peer bytes.
 */
export function decodeAuthOption(data: Uint8Array): PppAuthMethod | undefined {
  if (data.length < 2) return undefined
  const proto = (data[0]! << 8) | data[1]!
  if (proto === AuthProtocol.PAP) return data.length === 2 ? 'pap' : undefined
  if (proto === AuthProtocol.EAP) return data.length === 2 ? 'eap' : undefined
  if (proto === AuthProtocol.CHAP && data.length === 3) {
    if (data[2] === ChapAlgorithm.MD5) return 'chap-md5'
    if (data[2] === ChapAlgorithm.MSCHAPV2) return 'mschapv2'
  }
  return undefined
}

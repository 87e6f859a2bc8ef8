// Builds matching outbound/inbound ESP SAs for every implemented algorithm pairing (keys from a
// fixed Rng), as IKE would install them on the two peers.
import { fixedRng } from '../helpers/clock.js'
import { EspEncryption, EspIntegrity, espKeyMaterialLength, splitEspKeyMaterial } from '../../src/esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm, EspKeys } from '../../src/esp/algorithms.js'
import { EspInboundSa } from '../../src/esp/sa-inbound.js'
import type { EspInboundOptions } from '../../src/esp/sa-inbound.js'
import { EspOutboundSa } from '../../src/esp/sa-outbound.js'
import type { EspOutboundOptions } from '../../src/esp/sa-outbound.js'

export interface Suite { readonly name: string; readonly enc: EspEncryptionAlgorithm; readonly integ?: EspIntegrityAlgorithm }

const CBC = [EspEncryption.AES_CBC_128, EspEncryption.AES_CBC_192, EspEncryption.AES_CBC_256, EspEncryption.DES3_CBC]
/** Every CBC cipher with every HMAC, and every AES-GCM key size. */
export const SUITES: readonly Suite[] = [
  ...CBC.flatMap((enc) => Object.values(EspIntegrity).map((integ) => ({ name: `${enc.name}+${integ.name}`, enc, integ }))),
  ...[EspEncryption.AES_GCM16_128, EspEncryption.AES_GCM16_192, EspEncryption.AES_GCM16_256].map((enc) => ({ name: enc.name, enc })),
]

export interface SaPair { readonly out: EspOutboundSa; readonly in: EspInboundSa }

/** The keys saPair(suite, _, seed) installs (fresh copies). */
export function keysFor(suite: Suite, seed: number): EspKeys {
  return splitEspKeyMaterial(suite.enc, suite.integ, fixedRng(seed).bytes(espKeyMaterialLength(suite.enc, suite.integ)))
}

/** An outbound SA and the peer's inbound SA for it (same SPI and keys). */
export function saPair(suite: Suite, spi: number, seed = 7, extraIn: Partial<EspInboundOptions> = {}, extraOut: Partial<EspOutboundOptions> = {}): SaPair {
  const keys = keysFor(suite, seed)
  const common = { spi, encryption: suite.enc, keys, ...(suite.integ ? { integrity: suite.integ } : {}) }
  return {
    out: new EspOutboundSa({ ...common, rng: fixedRng(seed + 1000), ...extraOut }),
    in: new EspInboundSa({ ...common, ...extraIn }),
  }
}

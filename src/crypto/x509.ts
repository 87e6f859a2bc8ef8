// X.509 helpers the composition roots need without importing node:crypto themselves.
import { X509Certificate } from 'node:crypto'

/** The DER bytes of a PEM certificate (the input of SSTP's certificate hash, MS-SSTP §3.2.5.2). */
export function certificateDer(pem: string): Uint8Array {
  return new Uint8Array(new X509Certificate(pem).raw)
}

// `gatehouse connect sstp://HOST[:PORT] | pptp://HOST[:PORT] | l2tp://HOST --user NAME [--psk-file FILE | --cert FILE.p12 | --no-ipsec] [--ca FILE | --insecure] [--split CIDR,...]`:
// the client. Progress on stderr, the assigned address on stdout; stays up until SIGINT/SIGTERM.
import { parse, splitList } from './args.js'
import { readFileSync } from 'node:fs'
import { readPassword, readPasswords } from './password.js'
import { connectSstp } from '../client/sstp-client.js'
import { connectPptp } from '../client/pptp-client.js'
import { connectL2tp, connectL2tpIpsec } from '../client/l2tp-client.js'
import type { IpsecClientAuth } from '../client/l2tp-ipsec-dial.js'
import { decodePkcs12 } from '../pki/pkcs12.js'
import { VpnError } from '../lib/errors.js'

const SCHEMES: Record<string, number> = { 'sstp:': 443, 'pptp:': 1723, 'l2tp:': 1701 }

/** l2tp:// needs to know how to authenticate IPsec (RFC 3193), or to be told explicitly to go without it. */
export const L2TP_NEEDS_IPSEC_AUTH = 'L2TP/IPsec needs --cert FILE.p12 (a machine certificate from the gateway: `gatehouse ca issue ... --client --p12 FILE`) or --psk-file FILE (the gateway\'s pre-shared key); --no-ipsec connects without IPsec (weak, like PPTP)'

export function parseTarget(url: string): { scheme: string; host: string; port: number } {
  let u: URL
  try { u = new URL(url) } catch { throw new VpnError('ERR_USAGE', `"${url}" is not a URL: use sstp://HOST[:PORT]`) }
  const port = SCHEMES[u.protocol]
  if (port === undefined) throw new VpnError('ERR_USAGE', `protocol "${u.protocol.replace(':', '')}" is not supported by this client yet: use sstp://HOST[:PORT], pptp://HOST[:PORT] or l2tp://HOST[:PORT]`)
  const host = u.hostname.replace(/^\[|\]$/g, '')
  if (!host) throw new VpnError('ERR_USAGE', `no host in "${url}"`)
  return { scheme: u.protocol.slice(0, -1), host, port: u.port ? Number(u.port) : port }
}

export async function runConnect(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    user: { type: 'string' }, ca: { type: 'string' }, insecure: { type: 'boolean' }, split: { type: 'string' },
    tun: { type: 'string' }, 'no-dns': { type: 'boolean' }, mtu: { type: 'string' }, 'no-ipsec': { type: 'boolean' },
    'psk-file': { type: 'string' }, cert: { type: 'string' }, 'l2tp-secret-file': { type: 'string' },
  }, true)
  const url = positionals[0]
  if (!url) throw new VpnError('ERR_USAGE', 'usage: gatehouse connect sstp://HOST[:PORT] | pptp://HOST[:PORT] | l2tp://HOST --user NAME [--cert FILE.p12 | --psk-file FILE | --no-ipsec] [--ca FILE | --insecure] [--split CIDR,...]')
  if (!values.user) throw new VpnError('ERR_USAGE', '--user NAME is required')
  if (values.ca && values.insecure) throw new VpnError('ERR_USAGE', '--ca and --insecure exclude each other')
  const target = parseTarget(url)
  // Every usage error before the password prompt.
  if (target.scheme === 'pptp' && (values.ca || values.insecure)) throw new VpnError('ERR_USAGE', '--ca and --insecure apply to sstp:// only: PPTP has no certificate (the gateway is not authenticated beyond MS-CHAPv2)')
  if (target.scheme === 'l2tp') checkL2tpUsage(values)
  else if (values['no-ipsec'] || values['psk-file'] !== undefined || values.cert !== undefined || values['l2tp-secret-file'] !== undefined) throw new VpnError('ERR_USAGE', '--no-ipsec, --psk-file, --cert and --l2tp-secret-file apply to l2tp:// only')
  const mtu = values.mtu === undefined ? undefined : Number(values.mtu)
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 576 && mtu <= 1500)) throw new VpnError('ERR_USAGE', `--mtu ${values.mtu}: expected an integer from 576 to 1500`)
  // A pre-shared key file is read (and judged) before any prompt.
  const psk = values['psk-file'] !== undefined ? readPsk(values['psk-file']) : undefined
  const l2tpSecret = values['l2tp-secret-file'] !== undefined ? readPsk(values['l2tp-secret-file'], '--l2tp-secret-file') : undefined
  const [password, bundlePassword] = values.cert !== undefined
    ? await readPasswords([`Password for ${values.user}: `, `Password of the certificate bundle ${values.cert}: `]) as [string, string]
    : [await readPassword(`Password for ${values.user}: `), undefined]
  const ipsecAuth: IpsecClientAuth | undefined = psk ? { kind: 'psk', psk }
    : values.cert !== undefined ? loadBundle(values.cert, bundlePassword!, values.ca) : undefined
  const progress = (line: string): void => { process.stderr.write(`gatehouse connect: ${line}\n`) }
  if (values.insecure) progress('WARNING: --insecure: the gateway certificate is not checked; anyone on the path can impersonate it')
  const common = { host: target.host, port: target.port, user: values.user, password, split: splitList(values.split), tunName: values.tun, setDns: !values['no-dns'], mtu, progress }
  const client = target.scheme === 'pptp' ? await connectPptp(common)
    : target.scheme === 'l2tp' ? await (ipsecAuth ? connectL2tpIpsec({ ...common, auth: ipsecAuth, ...(l2tpSecret ? { secret: l2tpSecret } : {}) }) : connectL2tp({ ...common, ...(l2tpSecret ? { secret: l2tpSecret } : {}) }))
    : await connectSstp({ ...common, caFile: values.ca, insecure: values.insecure })
  process.stdout.write(`address ${client.up.address}\n`)
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (sig: string): void => {
      if (stopping) return
      stopping = true
      progress(`${sig}: disconnecting`)
      client.disconnect().then(() => { progress('disconnected'); resolve(0) })
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    client.closed.then(() => resolve(0), (e: Error) => { if (!stopping) { process.stderr.write(`gatehouse connect: ${e.message}\n`); resolve(1) } })
  })
}

function checkL2tpUsage(values: { ca?: string; insecure?: boolean; 'no-ipsec'?: boolean; 'psk-file'?: string; cert?: string }): void {
  const modes = [values['no-ipsec'] ? '--no-ipsec' : '', values['psk-file'] !== undefined ? '--psk-file' : '', values.cert !== undefined ? '--cert' : ''].filter(Boolean)
  if (modes.length === 0) throw new VpnError('ERR_USAGE', L2TP_NEEDS_IPSEC_AUTH)
  if (modes.length > 1) throw new VpnError('ERR_USAGE', `${modes.join(' and ')} exclude each other: give one`)
  if (values.insecure) throw new VpnError('ERR_USAGE', '--insecure applies to sstp:// only')
  if (values.ca && values.cert === undefined) throw new VpnError('ERR_USAGE', '--ca with l2tp:// names the CA that issued the gateway\'s IPsec certificate: it goes with --cert')
}

/** A shared secret from the first line of FILE (the IPsec pre-shared key, the L2TP tunnel secret). */
function readPsk(path: string, option = '--psk-file'): Uint8Array {
  let line: string
  try { line = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '' } catch (e) {
    throw new VpnError('ERR_USAGE', `cannot read ${option} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  if (!line) throw new VpnError('ERR_USAGE', `${option} ${path} is empty`)
  return new TextEncoder().encode(line)
}

/** The machine certificate, its key and the CA that issued the gateway's certificate (--ca, else the bundle's). */
function loadBundle(path: string, password: string, caFile: string | undefined): IpsecClientAuth {
  let bytes: Uint8Array
  try { bytes = new Uint8Array(readFileSync(path)) } catch (e) {
    throw new VpnError('ERR_USAGE', `cannot read --cert ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  const p12 = decodePkcs12(bytes, password)
  let caPems: string[] = [...p12.caCertPems]
  if (caFile !== undefined) {
    try { caPems = [readFileSync(caFile, 'utf8')] } catch (e) {
      throw new VpnError('ERR_USAGE', `cannot read --ca ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  }
  if (caPems.length === 0) throw new VpnError('ERR_USAGE', `${path} holds no CA certificate to check the gateway with: add --ca FILE (the gateway's ca.pem)`)
  return { kind: 'cert', certPem: p12.certPem, keyPem: p12.keyPem, caPems }
}

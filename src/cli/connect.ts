// `gatehouse connect sstp://HOST[:PORT] | pptp://HOST[:PORT] | l2tp://HOST[:PORT] --no-ipsec --user NAME [--ca FILE | --insecure] [--split CIDR,...]`:
// the client. Progress on stderr, the assigned address on stdout; stays up until SIGINT/SIGTERM.
import { parse, splitList } from './args.js'
import { readPassword } from './password.js'
import { connectSstp } from '../client/sstp-client.js'
import { connectPptp } from '../client/pptp-client.js'
import { connectL2tp } from '../client/l2tp-client.js'
import { VpnError } from '../lib/errors.js'

const SCHEMES: Record<string, number> = { 'sstp:': 443, 'pptp:': 1723, 'l2tp:': 1701 }

/** l2tp:// without --no-ipsec: the client has no IPsec yet (RFC 3193), so it will not pretend to. */
export const L2TP_NEEDS_NO_IPSEC = 'IPsec is not implemented yet in this client; --no-ipsec connects without it (weak, like PPTP)'

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
  }, true)
  const url = positionals[0]
  if (!url) throw new VpnError('ERR_USAGE', 'usage: gatehouse connect sstp://HOST[:PORT] | pptp://HOST[:PORT] | l2tp://HOST[:PORT] --no-ipsec --user NAME [--ca FILE | --insecure] [--split CIDR,...]')
  if (!values.user) throw new VpnError('ERR_USAGE', '--user NAME is required')
  if (values.ca && values.insecure) throw new VpnError('ERR_USAGE', '--ca and --insecure exclude each other')
  const target = parseTarget(url)
  // Every usage error before the password prompt.
  if (target.scheme === 'pptp' && (values.ca || values.insecure)) throw new VpnError('ERR_USAGE', '--ca and --insecure apply to sstp:// only: PPTP has no certificate (the gateway is not authenticated beyond MS-CHAPv2)')
  if (target.scheme === 'l2tp' && (values.ca || values.insecure)) throw new VpnError('ERR_USAGE', '--ca and --insecure apply to sstp:// only: plain L2TP has no certificate (the gateway is not authenticated beyond MS-CHAPv2)')
  if (target.scheme === 'l2tp' && !values['no-ipsec']) throw new VpnError('ERR_USAGE', L2TP_NEEDS_NO_IPSEC)
  if (target.scheme !== 'l2tp' && values['no-ipsec']) throw new VpnError('ERR_USAGE', '--no-ipsec applies to l2tp:// only')
  const mtu = values.mtu === undefined ? undefined : Number(values.mtu)
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 576 && mtu <= 1500)) throw new VpnError('ERR_USAGE', `--mtu ${values.mtu}: expected an integer from 576 to 1500`)
  const password = await readPassword(`Password for ${values.user}: `)
  const progress = (line: string): void => { process.stderr.write(`gatehouse connect: ${line}\n`) }
  if (values.insecure) progress('WARNING: --insecure: the gateway certificate is not checked; anyone on the path can impersonate it')
  const common = { host: target.host, port: target.port, user: values.user, password, split: splitList(values.split), tunName: values.tun, setDns: !values['no-dns'], mtu, progress }
  const client = target.scheme === 'pptp' ? await connectPptp(common)
    : target.scheme === 'l2tp' ? await connectL2tp(common)
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

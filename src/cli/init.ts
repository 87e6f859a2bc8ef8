// `gatehouse init`: one directory with the commented config, a CA, a server certificate naming the
// listen address and host name, the user store and the key for reversible secrets.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { systemRng } from '../crypto/rng.js'
import { parse, requireDir, splitList } from './args.js'
import { renderConfig } from '../config/template.js'
import { parseConfig, CONFIG_FILE } from '../config/load.js'
import { createCa, issueServerCert } from '../pki/ca.js'
import { UserStore } from '../aaa/user-store.js'
import { VpnError } from '../lib/errors.js'

export async function runInit(args: string[]): Promise<number> {
  const { values } = parse(args, {
    dir: { type: 'string' }, listen: { type: 'string' }, pool: { type: 'string' }, dns: { type: 'string' },
    wins: { type: 'string' }, protocols: { type: 'string' }, name: { type: 'string', multiple: true }, port: { type: 'string' },
    force: { type: 'boolean' }, 'l2tp-without-ipsec': { type: 'boolean' }, psk: { type: 'boolean' }, 'psk-file': { type: 'string' },
  })
  const dir = requireDir(values.dir)
  if (existsSync(dir) && readdirSync(dir).length > 0 && !values.force) {
    throw new VpnError('ERR_EXISTS', `${dir} is not empty: choose a new directory (or --force to overwrite the config and certificates)`)
  }
  const protocols = splitList(values.protocols) ?? ['sstp']
  const wantPsk = values.psk === true || values['psk-file'] !== undefined
  if (wantPsk && !protocols.includes('l2tp')) throw new VpnError('ERR_USAGE', '--psk and --psk-file are for L2TP/IPsec: add l2tp to --protocols')
  if (values.psk && values['psk-file'] !== undefined) throw new VpnError('ERR_USAGE', '--psk generates a key, --psk-file reads one: give one of them')
  // Read (and judge) a given key before anything is written.
  const psk = values['psk-file'] !== undefined ? readPskFile(values['psk-file']) : values.psk ? generatePsk() : undefined
  let text = renderConfig({
    listen: values.listen, pool: values.pool, dns: splitList(values.dns), wins: splitList(values.wins),
    sstpPort: values.port !== undefined ? Number(values.port) : undefined,
  })
  text = text.replace(/^protocols: .*$/m, `protocols: ${JSON.stringify(protocols)}`)
  // Plain L2TP (no IPsec: weak, like PPTP) only when asked for by name; the config then says so too.
  if (values['l2tp-without-ipsec']) text = text.replace(/^(\s+allowWithoutIpsec:) false$/m, '$1 true')
  // A pre-shared key is accepted next to certificates, never instead of them being possible.
  if (psk) text = text.replace(/^(\s+auth:) \["certificate"\]$/m, '$1 ["certificate","psk"]')
  // Validate before writing anything: a bad --pool or an unknown protocol is refused with the field named.
  const config = parseConfig(text, dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileSync(join(dir, CONFIG_FILE), text)

  const host = hostname()
  const dnsNames = [...new Set([...(values.name ?? []), host, 'localhost'])]
  const ips = [config.listen === '0.0.0.0' ? '127.0.0.1' : config.listen]
  const ca = createCa({ commonName: `Gatehouse CA ${host}` })
  writeFileSync(config.paths.ca, ca.certPem)
  writeFileSync(config.paths.caKey, ca.keyPem, { mode: 0o600 })
  const cn = values.name?.[0] ?? (config.listen === '0.0.0.0' ? host : config.listen)
  const server = issueServerCert(ca, { commonName: cn, dnsNames, ipAddresses: ips })
  writeFileSync(config.paths.serverCert, server.certPem)
  writeFileSync(config.paths.serverKey, server.keyPem, { mode: 0o600 })
  if (!existsSync(config.paths.secretKey)) writeFileSync(config.paths.secretKey, systemRng.bytes(32), { mode: 0o600 })
  UserStore.open(config.paths.usersDb).close()
  if (psk) writeFileSync(config.ipsec.pskFile, `${psk}\n`, { mode: 0o600 })

  const out = process.stdout
  out.write(`Created gateway directory ${dir}\n`)
  out.write(`  ${CONFIG_FILE}   configuration (commented); protocols: ${protocols.join(', ')}; pool ${config.pool}\n`)
  out.write(`  ca.pem          certification authority: give this file to clients (--ca) or import it as a trusted root\n`)
  out.write(`  server.pem      server certificate for ${cn} (names: ${[...dnsNames, ...ips].join(', ')})\n`)
  out.write(`  users.db        local users and session records\n`)
  if (psk) out.write(`  ${basename(config.ipsec.pskFile)}       IPsec pre-shared key (mode 600)\n`)
  out.write('\n')
  if (psk && values.psk) {
    out.write(`IPsec pre-shared key (shown once; it is also in ${config.ipsec.pskFile}):\n\n    ${psk}\n\n`)
  }
  if (psk) out.write(`WARNING: every L2TP/IPsec client shares this key: anyone who has it can impersonate the gateway to the others.\nPrefer a machine certificate per client: gatehouse ca issue --dir ${dir} NAME --client --p12 NAME.p12\n\n`)
  out.write('Next steps:\n')
  out.write(`  gatehouse user add --dir ${dir} alice        # add a user (strong password required)\n`)
  out.write(`  gatehouse firewall --dir ${dir}              # the packet-filter rules to open\n`)
  out.write(`  gatehouse serve --dir ${dir}                 # run the gateway (as root: it creates a TUN device)\n`)
  out.write(`  gatehouse connect sstp://${cn} --user alice --ca ${config.paths.ca}   # on a client\n`)
  if (protocols.includes('l2tp')) {
    out.write(`  gatehouse ca issue --dir ${dir} laptop1 --client --p12 laptop1.p12   # a machine certificate for L2TP/IPsec\n`)
    out.write(`  gatehouse connect l2tp://${cn} --user alice ${psk ? '--psk-file FILE' : '--cert laptop1.p12'} --ca ${config.paths.ca}\n`)
  }
  if (!values.name) out.write(`Clients must dial a name the certificate lists; re-run with --name vpn.example.com (repeatable) for your public name.\n`)
  return 0
}

/** A pre-shared key the administrator brings: the first line of FILE, long enough to resist an offline search. */
function readPskFile(path: string): string {
  let line: string
  try { line = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '' } catch (e) {
    throw new VpnError('ERR_USAGE', `cannot read --psk-file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  // Main mode hides the key, but anyone who records one exchange with a client can test guesses offline.
  if (line.length < 20) throw new VpnError('ERR_USAGE', `the pre-shared key in ${path} has ${line.length} characters: use at least 20 random ones (or --psk to generate one)`)
  return line
}

/** 32 random bytes as base64url (43 characters): beyond any offline search, and typeable into Windows' dialog. */
function generatePsk(): string { return Buffer.from(systemRng.bytes(32)).toString('base64url') }

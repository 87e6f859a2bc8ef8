// `gatehouse init`: one directory with the commented config, a CA, a server certificate naming the
// listen address and host name, the user store and the key for reversible secrets.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
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
    force: { type: 'boolean' }, 'l2tp-without-ipsec': { type: 'boolean' },
  })
  const dir = requireDir(values.dir)
  if (existsSync(dir) && readdirSync(dir).length > 0 && !values.force) {
    throw new VpnError('ERR_EXISTS', `${dir} is not empty: choose a new directory (or --force to overwrite the config and certificates)`)
  }
  const protocols = splitList(values.protocols) ?? ['sstp']
  let text = renderConfig({
    listen: values.listen, pool: values.pool, dns: splitList(values.dns), wins: splitList(values.wins),
    sstpPort: values.port !== undefined ? Number(values.port) : undefined,
  })
  text = text.replace(/^protocols: .*$/m, `protocols: ${JSON.stringify(protocols)}`)
  // Plain L2TP (no IPsec: weak, like PPTP) only when asked for by name; the config then says so too.
  if (values['l2tp-without-ipsec']) text = text.replace(/^(\s+allowWithoutIpsec:) false$/m, '$1 true')
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

  const out = process.stdout
  out.write(`Created gateway directory ${dir}\n`)
  out.write(`  ${CONFIG_FILE}   configuration (commented); protocols: ${protocols.join(', ')}; pool ${config.pool}\n`)
  out.write(`  ca.pem          certification authority: give this file to clients (--ca) or import it as a trusted root\n`)
  out.write(`  server.pem      server certificate for ${cn} (names: ${[...dnsNames, ...ips].join(', ')})\n`)
  out.write(`  users.db        local users and session records\n\n`)
  out.write('Next steps:\n')
  out.write(`  gatehouse user add --dir ${dir} alice        # add a user (strong password required)\n`)
  out.write(`  gatehouse firewall --dir ${dir}              # the packet-filter rules to open\n`)
  out.write(`  gatehouse serve --dir ${dir}                 # run the gateway (as root: it creates a TUN device)\n`)
  out.write(`  gatehouse connect sstp://${cn} --user alice --ca ${config.paths.ca}   # on a client\n`)
  if (!values.name) out.write(`Clients must dial a name the certificate lists; re-run with --name vpn.example.com (repeatable) for your public name.\n`)
  return 0
}

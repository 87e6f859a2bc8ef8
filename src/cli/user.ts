// `gatehouse user add|del|list|passwd|set --dir DIR [NAME]`: manage the local user store, including
// router accounts (`--routes 10.2.0.0/24,...`: the networks routed over the account's link).
import { readFileSync } from 'node:fs'
import { parse, requireDir, splitList } from './args.js'
import { loadConfig } from '../config/load.js'
import { UserStore } from '../aaa/user-store.js'
import { reservedPrefixes } from '../aaa/framed-routes.js'
import { readPassword } from './password.js'
import { VpnError } from '../lib/errors.js'

export async function runUser(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    dir: { type: 'string' }, reversible: { type: 'boolean' }, json: { type: 'boolean' },
    routes: { type: 'string' }, 'no-routes': { type: 'boolean' },
  }, true)
  const [action, name] = positionals
  const dir = requireDir(values.dir)
  const config = loadConfig(dir)
  let secretKey: Uint8Array | undefined
  try { secretKey = new Uint8Array(readFileSync(config.paths.secretKey)) } catch { secretKey = undefined }
  // A router account may not claim the client pool or a network this gateway announces itself.
  const reserved = reservedPrefixes(config.pool, config.routes)
  const store = UserStore.open(config.paths.usersDb, { secretKey, lockout: config.auth.lockout, reservedPrefixes: reserved })
  try {
    const needName = (): string => { if (!name) throw new VpnError('ERR_USAGE', `usage: gatehouse user ${action} --dir DIR NAME`); return name }
    switch (action) {
      case 'add': {
        const n = needName()
        if (values.reversible && !config.auth.allowChap) process.stderr.write('note: --reversible keeps the password decryptable (for CHAP-MD5/EAP-MD5), but auth.allowChap is false in the config\n')
        if (values['no-routes']) throw new VpnError('ERR_USAGE', '--no-routes is for `user set`; a new user has no routes unless --routes is given')
        const routes = splitList(values.routes) ?? []
        if (values.routes !== undefined && routes.length === 0) throw new VpnError('ERR_USAGE', '--routes needs at least one prefix (a.b.c.d/n,...)')
        store.checkRoutes(n, routes) // refuse a bad route before asking for the password
        const pw = await readPassword(`Password for ${n}: `, true)
        store.add(n, pw, { reversible: values.reversible ?? false, policy: config.auth.passwordPolicy, routes })
        process.stdout.write(routes.length > 0 ? `router account ${n} added, routes ${store.routes(n).join(', ')}\n` : `user ${n} added\n`)
        return 0
      }
      case 'set': {
        const n = needName()
        if ((values.routes === undefined) === !values['no-routes']) throw new VpnError('ERR_USAGE', 'usage: gatehouse user set --dir DIR NAME --routes CIDR[,CIDR...] | --no-routes')
        const routes = values['no-routes'] ? [] : splitList(values.routes) ?? []
        if (!values['no-routes'] && routes.length === 0) throw new VpnError('ERR_USAGE', '--routes needs at least one prefix (a.b.c.d/n,...); use --no-routes to remove them')
        store.setRoutes(n, routes)
        const now = store.routes(n)
        process.stdout.write(now.length > 0 ? `routes of ${n}: ${now.join(', ')} (from its next login)\n` : `${n} has no routes now (from its next login)\n`)
        return 0
      }
      case 'passwd': {
        const n = needName()
        const pw = await readPassword(`New password for ${n}: `, true)
        store.passwd(n, pw, { reversible: values.reversible, policy: config.auth.passwordPolicy })
        process.stdout.write(`password of ${n} changed\n`)
        return 0
      }
      case 'del': {
        const n = needName()
        store.del(n)
        process.stdout.write(`user ${n} deleted\n`)
        return 0
      }
      case 'list': {
        const users = store.list()
        if (values.json) { process.stdout.write(JSON.stringify(users, null, 2) + '\n'); return 0 }
        if (users.length === 0) { process.stdout.write('no users (add one with `gatehouse user add --dir DIR NAME`)\n'); return 0 }
        for (const u of users) {
          const flags = [u.routes.length > 0 ? `routes ${u.routes.join(',')}` : '', u.reversible ? 'reversible' : '', u.disabled ? 'disabled' : '', u.lockedUntil && u.lockedUntil > Date.now() ? `locked until ${new Date(u.lockedUntil).toISOString()}` : ''].filter(Boolean).join(', ')
          process.stdout.write(`${u.name}${flags ? `  (${flags})` : ''}\n`)
        }
        return 0
      }
      default:
        throw new VpnError('ERR_USAGE', 'usage: gatehouse user add|del|list|passwd|set --dir DIR [NAME] [--routes CIDR,... | --no-routes]')
    }
  } finally {
    store.close()
  }
}

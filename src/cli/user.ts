// `gatehouse user add|del|list|passwd --dir DIR [NAME]`: manage the local user store.
import { readFileSync } from 'node:fs'
import { parse, requireDir } from './args.js'
import { loadConfig } from '../config/load.js'
import { UserStore } from '../aaa/user-store.js'
import { readPassword } from './password.js'
import { VpnError } from '../lib/errors.js'

export async function runUser(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { dir: { type: 'string' }, reversible: { type: 'boolean' }, json: { type: 'boolean' } }, true)
  const [action, name] = positionals
  const dir = requireDir(values.dir)
  const config = loadConfig(dir)
  let secretKey: Uint8Array | undefined
  try { secretKey = new Uint8Array(readFileSync(config.paths.secretKey)) } catch { secretKey = undefined }
  const store = UserStore.open(config.paths.usersDb, { secretKey, lockout: config.auth.lockout })
  try {
    const needName = (): string => { if (!name) throw new VpnError('ERR_USAGE', `usage: gatehouse user ${action} --dir DIR NAME`); return name }
    switch (action) {
      case 'add': {
        const n = needName()
        if (values.reversible && !config.auth.allowChap) process.stderr.write('note: --reversible keeps the password decryptable (for CHAP-MD5/EAP-MD5), but auth.allowChap is false in the config\n')
        const pw = await readPassword(`Password for ${n}: `, true)
        store.add(n, pw, { reversible: values.reversible ?? false, policy: config.auth.passwordPolicy })
        process.stdout.write(`user ${n} added\n`)
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
          const flags = [u.reversible ? 'reversible' : '', u.lockedUntil && u.lockedUntil > Date.now() ? `locked until ${new Date(u.lockedUntil).toISOString()}` : ''].filter(Boolean).join(', ')
          process.stdout.write(`${u.name}${flags ? `  (${flags})` : ''}\n`)
        }
        return 0
      }
      default:
        throw new VpnError('ERR_USAGE', 'usage: gatehouse user add|del|list|passwd --dir DIR [NAME]')
    }
  } finally {
    store.close()
  }
}

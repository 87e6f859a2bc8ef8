// Applies the DNS servers the gateway pushed (RFC 1877) and undoes it at disconnect: through
// systemd-resolved for the tunnel link when present, else by rewriting /etc/resolv.conf with the
// original saved and restored.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync, renameSync, lstatSync, rmSync } from 'node:fs'

export interface DnsRestore { readonly how: string; restore(): void }

function hasResolvectl(): boolean {
  try { execFileSync('resolvectl', ['status'], { stdio: 'ignore', timeout: 3000 }); return true } catch { return false }
}

export function applyDns(dev: string, servers: readonly string[], path = '/etc/resolv.conf'): DnsRestore | undefined {
  if (servers.length === 0) return undefined
  if (hasResolvectl()) {
    execFileSync('resolvectl', ['dns', dev, ...servers])
    execFileSync('resolvectl', ['domain', dev, '~.'])
    return { how: `systemd-resolved on ${dev}`, restore() { try { execFileSync('resolvectl', ['revert', dev], { stdio: 'ignore' }) } catch { /* link gone already */ } } }
  }
  if (existsSync(path) && lstatSync(path).isSymbolicLink()) {
    // A managed resolv.conf (a link into a resolver's runtime dir) must not be overwritten.
    return { how: `not applied: ${path} is managed by another resolver`, restore() {} }
  }
  const original = existsSync(path) ? readFileSync(path, 'utf8') : undefined
  const body = `# written by gatehouse connect (${dev}); the previous file is restored at disconnect\n${servers.map((s) => `nameserver ${s}`).join('\n')}\n`
  replaceFile(path, body)
  return {
    how: path,
    restore() { if (original !== undefined) replaceFile(path, original) },
  }
}

/** Atomic replace by rename; in place when the file is a mount point (ip netns exec binds /etc/netns/NS/resolv.conf). */
function replaceFile(path: string, body: string): void {
  const tmp = `${path}.gatehouse-${process.pid}`
  try {
    writeFileSync(tmp, body)
    renameSync(tmp, path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'EBUSY' && code !== 'EXDEV') throw e
    rmSync(tmp, { force: true })
    writeFileSync(path, body)
  }
}

// Network-namespace lab for e2e tests: uniquely named namespaces (gh_t<pid>_<n>), veth pairs on
// 198.18.0.0/16, commands run inside a namespace, waitFor(), and cleanup that always runs.
// Never a default route to the outside: nothing a test sends can leave the machine.
import { after } from 'node:test'
import { execFile, execFileSync, spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { readdirSync } from 'node:fs'

export const NETNS_PREFIX = 'gh_t'

export interface ExecResult { readonly stdout: string; readonly stderr: string; readonly code: number }

/** Runs a command (no shell); resolves with its output and exit code, or rejects if `check` and code != 0. */
export function run(cmd: string, args: readonly string[], opts: { check?: boolean; timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 15_000, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
      if (code !== 0 && opts.check !== false) reject(new Error(`\`${cmd} ${args.join(' ')}\` exited ${code}: ${stderr.trim() || (err?.message ?? '')}`))
      else resolve({ stdout, stderr, code })
    })
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}

/** Polls `cond` every `intervalMs` until it is truthy; rejects after `timeoutMs` naming `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition', intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Deletes namespaces left by earlier runs whose process is gone (names carry the pid in base 36). */
export function removeLeftoverNamespaces(): string[] {
  let names: string[] = []
  try { names = readdirSync('/run/netns') } catch { return [] }
  const removed: string[] = []
  for (const n of names) {
    const m = new RegExp(`^${NETNS_PREFIX}([0-9a-z]+)_\\d+$`).exec(n)
    if (!m || pidAlive(parseInt(m[1]!, 36))) continue
    try { execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' }); removed.push(n) } catch { /* raced with another cleaner */ }
  }
  return removed
}

export interface VethPair { readonly a: string; readonly b: string; readonly addrA: string; readonly addrB: string }

/** What one test file created; cleanup() removes all of it, in reverse order, ignoring errors. */
export class NetnsLab {
  private readonly tag = process.pid.toString(36)
  private seq = 0
  private readonly namespaces: string[] = []
  private readonly hostLinks: string[] = []
  private readonly children = new Set<ChildProcess>()

  /** A new namespace named gh_t<pid36>_<n> with loopback up. */
  async createNamespace(): Promise<string> {
    const name = `${NETNS_PREFIX}${this.tag}_${this.seq++}`
    await run('ip', ['netns', 'add', name])
    this.namespaces.push(name)
    await this.exec(name, 'ip', ['link', 'set', 'lo', 'up'])
    return name
  }

  /**
   * A veth pair between two namespaces (undefined = the host side), addressed in 198.18.<subnet>.0/24
   * as .1 (a) and .2 (b), both up. No routes beyond the connected /24.
   */
  async createVeth(nsA: string | undefined, nsB: string | undefined, subnet: number): Promise<VethPair> {
    if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new RangeError(`subnet ${subnet}`)
    const n = this.seq++
    const a = `ght${this.tag}v${n}a`, b = `ght${this.tag}v${n}b`
    const args = ['link', 'add', a]
    if (nsA) args.push('netns', nsA)
    args.push('type', 'veth', 'peer', 'name', b)
    if (nsB) args.push('netns', nsB)
    await run('ip', args)
    if (!nsA) this.hostLinks.push(a)
    else if (!nsB) this.hostLinks.push(b)
    const addrA = `198.18.${subnet}.1`, addrB = `198.18.${subnet}.2`
    await this.execIn(nsA, 'ip', ['addr', 'add', `${addrA}/24`, 'dev', a])
    await this.execIn(nsB, 'ip', ['addr', 'add', `${addrB}/24`, 'dev', b])
    await this.execIn(nsA, 'ip', ['link', 'set', a, 'up'])
    await this.execIn(nsB, 'ip', ['link', 'set', b, 'up'])
    return { a, b, addrA, addrB }
  }

  /** Runs `cmd args` inside `ns` and waits; rejects on a non-zero exit unless check is false. */
  exec(ns: string, cmd: string, args: readonly string[], opts: { check?: boolean; timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], opts)
  }

  private execIn(ns: string | undefined, cmd: string, args: readonly string[]): Promise<ExecResult> {
    return ns ? this.exec(ns, cmd, args) : run(cmd, args)
  }

  /** Starts `cmd args` inside `ns` (ip netns exec replaces itself, so the pid is the command's). Killed at cleanup. */
  spawn(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }

  /** Kills our children (by their pid), deletes host-side links and our namespaces. Never throws. */
  async cleanup(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL')
        await new Promise<void>((r) => { const t = setTimeout(r, 2000); c.once('exit', () => { clearTimeout(t); r() }) })
      }
    }
    this.children.clear()
    for (const l of this.hostLinks.splice(0).reverse()) await run('ip', ['link', 'del', l], { check: false })
    for (const ns of this.namespaces.splice(0).reverse()) await run('ip', ['netns', 'del', ns], { check: false })
  }

  /** Synchronous last resort for process exit (a crash between tests). */
  cleanupSync(): void {
    for (const c of this.children) if (c.pid && c.exitCode === null) { try { process.kill(c.pid, 'SIGKILL') } catch { /* gone */ } }
    for (const l of this.hostLinks.splice(0)) { try { execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' }) } catch { /* gone */ } }
    for (const ns of this.namespaces.splice(0)) { try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }) } catch { /* gone */ } }
  }
}

/** A lab whose cleanup is registered with node:test's after() and on process exit. */
export function useNetnsLab(): NetnsLab {
  removeLeftoverNamespaces()
  const lab = new NetnsLab()
  after(() => lab.cleanup())
  process.once('exit', () => lab.cleanupSync())
  return lab
}

/** Collects a child's stdout as JSON lines (one object per line) and lets a test await one. */
export class JsonLines {
  readonly lines: Record<string, unknown>[] = []
  private buf = ''
  constructor(child: ChildProcess) {
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      this.buf += chunk
      let i: number
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i)
        this.buf = this.buf.slice(i + 1)
        try { this.lines.push(JSON.parse(line) as Record<string, unknown>) } catch { /* not ours */ }
      }
    })
  }
  /** Waits for the first line with `event` === name (after index `from`). */
  async next(event: string, timeoutMs = 5000, from = 0): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined
    await waitFor(() => (found = this.lines.slice(from).find((l) => l.event === event)) !== undefined, timeoutMs, `child event ${event}`)
    return found!
  }
}

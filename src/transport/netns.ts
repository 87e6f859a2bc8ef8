// Network-namespace lab for the demo, the benchmarks and the end-to-end tests (iproute2): namespaces,
// veth pairs, commands run inside them, and cleanup that always runs — explicitly, on process exit,
// or, for a lab whose process died, via removeLeftoverNamespaces() in a later run.
// Never a default route to the outside: nothing a lab sends can leave the machine.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { VpnError } from '../lib/errors.js'

/**
 * One file per lab namespace holding the pid that created it. It proves a namespace is ours (names
 * alone could collide with someone else's) and tells a later run whether its owner is still alive.
 */
const OWNERS = '/run/gatehouse-lab'

/** Runs `ip args` on the host, synchronously; throws ERR_NETNS with ip's stderr on failure. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new VpnError('ERR_NETNS', `ip ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`)
  }
}

export interface ExecResult { readonly stdout: string; readonly stderr: string; readonly code: number }
export interface RunOptions { readonly check?: boolean; readonly timeoutMs?: number; readonly input?: string }

/** Runs a command (no shell) without blocking; resolves with output and exit code, rejects if `check` (default) and code != 0. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
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

function ownerOf(ns: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${OWNERS}/${ns}`, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch { return undefined }
}

/** Drops what we keep beside a namespace: its /etc/netns directory and its owner record. */
function forget(ns: string): void {
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true })
  rmSync(`${OWNERS}/${ns}`, { force: true })
}

/**
 * Deletes lab namespaces whose creating process is gone (a crash, a SIGKILL, a test runner timeout),
 * after killing whatever still runs inside them: those are processes the dead lab started.
 * Only namespaces with an owner record are touched; returns the names removed.
 */
export function removeLeftoverNamespaces(): string[] {
  let names: string[]
  try { names = readdirSync(OWNERS) } catch { return [] }
  const removed: string[] = []
  for (const ns of names) {
    const owner = ownerOf(ns)
    if (owner !== undefined && pidAlive(owner)) continue
    try {
      for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL') } catch { /* exited meanwhile */ }
      }
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
      removed.push(ns)
    } catch { /* already gone, or raced with another cleaner */ }
    forget(ns)
  }
  return removed
}

/** What one demo, benchmark or test file created; cleanup() removes all of it, in reverse order. */
export class NetnsLab {
  readonly prefix: string
  private readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()
  private readonly onExit = (): void => this.cleanupSync()
  private exitHooked = false

  /** Namespaces are named `${prefix}${name}`; the default prefix carries the pid: gh_t<pid36>_. */
  constructor(prefix = `gh_t${process.pid.toString(36)}_`) { this.prefix = prefix }

  /**
   * Creates namespace `${prefix}${name}` with loopback up and a private resolv.conf (ip netns exec
   * binds /etc/netns/NS/*). A same-named leftover is replaced unless its owner is still running.
   * From the first namespace on, cleanupSync() runs on process exit unless cleanup() or keep() ran.
   */
  ns(name: string): string {
    const ns = `${this.prefix}${name}`
    const owner = ownerOf(ns)
    if (owner !== undefined && owner !== process.pid && pidAlive(owner)) throw new VpnError('ERR_NETNS_BUSY', `namespace ${ns} belongs to running process ${owner}`)
    try { ip('netns', 'del', ns) } catch { /* leftover from a crashed run, or none */ }
    // The owner record is written first, so a crash right after `netns add` still leaves it findable.
    mkdirSync(OWNERS, { recursive: true })
    writeFileSync(`${OWNERS}/${ns}`, `${process.pid}\n`)
    this.namespaces.push(ns)
    if (!this.exitHooked) { process.on('exit', this.onExit); this.exitHooked = true }
    ip('netns', 'add', ns)
    mkdirSync(`/etc/netns/${ns}`, { recursive: true })
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, '# private to the lab namespace\n')
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    return ns
  }

  /** A veth pair between two namespaces with an address on each end ("198.18.0.1/24"). */
  link(nsA: string, ifA: string, addrA: string, nsB: string, ifB: string, addrB: string): void {
    ip('link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB)
    ip('-n', nsA, 'addr', 'add', addrA, 'dev', ifA)
    ip('-n', nsB, 'addr', 'add', addrB, 'dev', ifB)
    ip('-n', nsA, 'link', 'set', ifA, 'up')
    ip('-n', nsB, 'link', 'set', ifB, 'up')
  }

  /** Runs a command in a namespace and returns its output; throws ERR_NETNS_EXEC with stderr on failure. Blocks. */
  exec(ns: string, cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    try {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 30000, stdio: ['pipe', 'pipe', 'pipe'] })
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string }
      throw new VpnError('ERR_NETNS_EXEC', `${cmd} ${args.join(' ')} in ${ns} failed: ${(err.stderr || err.stdout || err.message).trim()}`)
    }
  }

  /** Like exec() without blocking the event loop (for commands that run while we talk to a child); see run(). */
  execAsync(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], opts)
  }

  /** Starts a long-running command in a namespace (ip netns exec replaces itself, so the pid is the command's). Stopped by cleanup(). */
  spawn(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }

  /** Stops children still running (SIGTERM, then SIGKILL after 3 s), deletes namespaces and their /etc/netns dirs. Never throws. */
  async cleanup(): Promise<void> {
    await Promise.all([...this.children].map((c) => stopChild(c, 3000)))
    this.children.clear()
    this.removeNamespaces()
  }

  /** Synchronous last resort (process exit): SIGKILLs children still running, deletes namespaces. Never throws. */
  cleanupSync(): void {
    for (const c of this.children) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) { try { process.kill(c.pid, 'SIGKILL') } catch { /* gone */ } }
    }
    this.children.clear()
    this.removeNamespaces()
  }

  /** Leaves everything in place for inspection (demo --keep): no exit cleanup, and no later run removes it. Returns the names. */
  keep(): string[] {
    this.disarm()
    const kept = this.namespaces.splice(0)
    for (const ns of kept) rmSync(`${OWNERS}/${ns}`, { force: true })
    this.children.clear()
    return kept
  }

  private removeNamespaces(): void {
    for (const ns of this.namespaces.splice(0).reverse()) {
      try { ip('netns', 'del', ns) } catch { /* gone already */ }
      forget(ns)
    }
    this.disarm()
  }

  private disarm(): void {
    if (this.exitHooked) { process.off('exit', this.onExit); this.exitHooked = false }
  }
}

/** Sends `signal` (SIGTERM), waits up to timeoutMs for exit, then SIGKILL. Resolves with the exit code. */
export function stopChild(c: ChildProcess, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode)
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs)
    c.once('exit', (code) => { clearTimeout(t); resolve(code) })
    c.kill(signal)
  })
}

/** Resolves with the first stdout line matching `re`, rejects if the process exits first or time runs out. */
export function waitForLine(c: ChildProcess, re: RegExp, timeoutMs: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = ''
    let errText = ''
    const src = c[stream]!
    const onData = (d: Buffer): void => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        const m = re.exec(line)
        if (m) { finish(); resolve(m); return }
      }
    }
    const onErr = (d: Buffer): void => { errText = (errText + d.toString()).slice(-4000) }
    const onExit = (code: number | null): void => { finish(); reject(new Error(`process exited (${code}) before printing ${re}: ${errText.trim()}`)) }
    const t = setTimeout(() => { finish(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}: ${errText.trim()}`)) }, timeoutMs)
    const finish = (): void => { clearTimeout(t); src.off('data', onData); c.stderr?.off('data', onErr); c.off('exit', onExit) }
    src.on('data', onData)
    if (stream !== 'stderr') c.stderr?.on('data', onErr)
    c.on('exit', onExit)
  })
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

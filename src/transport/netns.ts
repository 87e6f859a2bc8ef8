// Network namespaces and veth pairs for the demo and the end-to-end tests (iproute2). Everything
// created is recorded so cleanup() removes it, whatever happened in between.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { VpnError } from '../lib/errors.js'

export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    throw new VpnError('ERR_NETNS', `ip ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`)
  }
}

export class NetnsLab {
  private readonly namespaces: string[] = []
  private readonly children: ChildProcess[] = []
  readonly prefix: string

  constructor(prefix: string) { this.prefix = prefix }

  /** Creates namespace `${prefix}${name}` with loopback up and a private resolv.conf (ip netns exec binds /etc/netns/NS/*). */
  ns(name: string): string {
    const ns = `${this.prefix}${name}`
    try { ip('netns', 'del', ns) } catch { /* leftover from a crashed run, or none */ }
    ip('netns', 'add', ns)
    this.namespaces.push(ns)
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

  /** Runs a command in a namespace and returns its output; throws with stderr on failure. */
  exec(ns: string, cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    try {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 30000, stdio: ['pipe', 'pipe', 'pipe'] })
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string }
      throw new VpnError('ERR_NETNS_EXEC', `${cmd} ${args.join(' ')} in ${ns} failed: ${(err.stderr || err.stdout || err.message).trim()}`)
    }
  }

  /** Starts a long-running command in a namespace; it is killed by cleanup() if still running. */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts })
    this.children.push(child)
    return child
  }

  /** Stops children we started (SIGTERM, then SIGKILL), deletes namespaces and their /etc/netns dirs. */
  async cleanup(): Promise<void> {
    await Promise.all(this.children.map((c) => stopChild(c, 3000)))
    for (const ns of this.namespaces.reverse()) {
      try { ip('netns', 'del', ns) } catch { /* gone already */ }
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true })
    }
    this.namespaces.length = 0
  }
}

/** Sends SIGTERM, waits up to timeoutMs for exit, then SIGKILL. Resolves with the exit code. */
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

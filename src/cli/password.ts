// Reads a password: from stdin when it is not a terminal (scripts, tests), else prompted without echo.
import { VpnError } from '../lib/errors.js'

/**
 * Several secrets in a row (the user's password, then a certificate bundle's): from stdin one per line when
 * it is not a terminal, else each prompted without echo.
 */
export async function readPasswords(prompts: readonly string[]): Promise<string[]> {
  if (process.stdin.isTTY) {
    const out: string[] = []
    for (const p of prompts) out.push(await promptHidden(p))
    return out
  }
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)
  return prompts.map((p, i) => {
    const line = lines[i] ?? ''
    if (!line) throw new VpnError('ERR_NO_PASSWORD', `no answer on line ${i + 1} of standard input for "${p.trim()}" (pipe one line per secret)`)
    return line
  })
}

export async function readPassword(prompt: string, confirm = false): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const first = text.split(/\r?\n/)[0] ?? ''
    if (!first) throw new VpnError('ERR_NO_PASSWORD', 'no password on standard input (pipe it in, e.g. `echo "$PW" | gatehouse ...`)')
    return first
  }
  const pw = await promptHidden(prompt)
  if (confirm && (await promptHidden('Repeat password: ')) !== pw) throw new VpnError('ERR_PASSWORD_MISMATCH', 'the two passwords differ')
  return pw
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin
    process.stderr.write(prompt)
    stdin.setRawMode(true)
    stdin.resume()
    let pw = ''
    const onData = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { done(); resolve(pw); return }
        if (ch === '\u0003') { done(); reject(new VpnError('ERR_CANCELLED', 'cancelled')); return }
        if (ch === '\u007f' || ch === '\b') pw = pw.slice(0, -1)
        else pw += ch
      }
    }
    const done = (): void => { stdin.off('data', onData); stdin.setRawMode(false); stdin.pause(); process.stderr.write('\n') }
    stdin.on('data', onData)
  })
}

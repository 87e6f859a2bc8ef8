// `gatehouse` entry point: dispatches to one file per command; every failure ends as one clear
// line on stderr and a non-zero exit code, never a stack trace for an expected problem.
import { VpnError } from '../lib/errors.js'

interface Command { readonly summary: string; readonly run: (args: string[]) => Promise<number> }

const COMMANDS: Record<string, Command> = {
  init: { summary: 'init --dir DIR [--listen ADDR] [--pool CIDR] [--dns A,B] [--protocols sstp,pptp,l2tp [--l2tp-without-ipsec]] [--name HOST]   create a gateway directory', run: async (a) => (await import('./init.js')).runInit(a) },
  user: { summary: 'user add|del|list|passwd|set --dir DIR [NAME] [--routes CIDR,...]   manage local users and router accounts (password from stdin when not a terminal)', run: async (a) => (await import('./user.js')).runUser(a) },
  ca: { summary: 'ca issue|list|revoke|crl --dir DIR [NAME|SERIAL] [--client|--server] [--p12 FILE] [--legacy-p12]   machine certificates as PKCS#12 bundles (ca --help)', run: async (a) => (await import('./ca.js')).runCa(a) },
  serve: { summary: 'serve --dir DIR   run the gateway in the foreground', run: async (a) => (await import('./serve.js')).runServe(a) },
  connect: { summary: 'connect sstp://HOST[:PORT] | pptp://HOST[:PORT] | l2tp://HOST[:PORT] --no-ipsec --user NAME [--ca FILE | --insecure] [--split CIDR,...]   connect as a client', run: async (a) => (await import('./connect.js')).runConnect(a) },
  sessions: { summary: 'sessions --dir DIR [--json] [--history]   live sessions of the running gateway (or past records)', run: async (a) => (await import('./sessions.js')).runSessions(a) },
  status: { summary: 'status --dir DIR [--json]   the running gateway: listeners, pool use, counters (drops by reason)', run: async (a) => (await import('./status.js')).runStatus(a) },
  firewall: { summary: 'firewall --dir DIR   print the packet-filter rules the enabled protocols need', run: async (a) => (await import('./firewall.js')).runFirewall(a) },
  demo: { summary: 'demo   build namespaces, run a gateway and a client, show the tunnel, clean up', run: async (a) => (await import('./demo.js')).runDemo(a) },
}

function usage(): string {
  return ['usage: gatehouse <command> [options]', '', ...Object.entries(COMMANDS).map(([, c]) => `  gatehouse ${c.summary}`), ''].join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') { process.stdout.write(usage()); return name ? 0 : 2 }
  const cmd = COMMANDS[name]
  if (!cmd) { process.stderr.write(`gatehouse: unknown command "${name}"\n\n${usage()}`); return 2 }
  try {
    return await cmd.run(rest)
  } catch (e) {
    if (e instanceof VpnError) { process.stderr.write(`gatehouse ${name}: ${e.message}\n`); return 1 }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatehouse ${name}: ${e.message}\nusage: gatehouse ${cmd.summary}\n`)
      return 2
    }
    process.stderr.write(`gatehouse ${name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`)
    return 1
  }
}

// `gatehouse sessions --dir DIR [--json] [--history]`: live sessions over the control socket, or
// the accounting records from the user store with --history.
import { parse, requireDir } from './args.js'
import { loadConfig } from '../config/load.js'
import { controlRequest } from '../transport/control-socket.js'
import type { SessionInfo } from '../control/api.js'
import { UserStore } from '../aaa/user-store.js'
import { SessionLog } from '../aaa/accounting.js'

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n'
}

export async function runSessions(args: string[]): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' }, json: { type: 'boolean' }, history: { type: 'boolean' }, limit: { type: 'string' } })
  const config = loadConfig(requireDir(values.dir))
  if (values.history) {
    const store = UserStore.open(config.paths.usersDb)
    try {
      const recs = new SessionLog(store.database).list({ limit: Number(values.limit ?? 50) })
      if (values.json) { process.stdout.write(JSON.stringify(recs, null, 2) + '\n'); return 0 }
      if (recs.length === 0) { process.stdout.write('no session records yet\n'); return 0 }
      const rows = [['USER', 'PROTO', 'PEER', 'ADDRESS', 'START', 'END', 'BYTES IN', 'BYTES OUT', 'REASON']]
      for (const r of recs) rows.push([r.user, r.protocol, r.peer, r.assignedAddress ?? '-', iso(r.start), r.end ? iso(r.end) : '(open)', String(r.bytesIn ?? 0), String(r.bytesOut ?? 0), r.reason ?? ''])
      process.stdout.write(table(rows))
      return 0
    } finally { store.close() }
  }
  const sessions = (await controlRequest(config.paths.controlSocket, { cmd: 'sessions' })) as SessionInfo[]
  if (values.json) { process.stdout.write(JSON.stringify(sessions, null, 2) + '\n'); return 0 }
  if (sessions.length === 0) { process.stdout.write('no sessions\n'); return 0 }
  // ROUTES only when some session carries networks (router accounts, router-to-router links).
  const withRoutes = sessions.some((s) => s.routes && s.routes.length > 0)
  const rows = [['ID', 'USER', 'PROTO', 'PEER', 'ADDRESS', 'STATE', 'SINCE', 'BYTES IN', 'BYTES OUT', ...(withRoutes ? ['ROUTES'] : [])]]
  for (const s of sessions) {
    rows.push([s.id, s.user, s.protocol, s.peer, s.address ?? '-', s.state, iso(s.start), String(s.bytesIn), String(s.bytesOut), ...(withRoutes ? [s.routes?.join(',') || '-'] : [])])
  }
  process.stdout.write(table(rows))
  return 0
}

function iso(ms: number): string { return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) }

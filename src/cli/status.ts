// `gatehouse status --dir DIR [--json]`: the running gateway's listeners, pool use and counters (drops
// by reason included), over the control socket.
import { parse, requireDir } from './args.js'
import { loadConfig } from '../config/load.js'
import { controlRequest } from '../transport/control-socket.js'
import type { GatewayStatus } from '../control/api.js'

export async function runStatus(args: string[]): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' }, json: { type: 'boolean' } })
  const config = loadConfig(requireDir(values.dir))
  const st = (await controlRequest(config.paths.controlSocket, { cmd: 'status' })) as GatewayStatus
  if (values.json) { process.stdout.write(JSON.stringify(st, null, 2) + '\n'); return 0 }
  const up = Math.round((Date.now() - st.startedAt) / 1000)
  const lines = [
    `gatehouse ${st.version}, pid ${st.pid}, up ${up} s`,
    `protocols: ${st.protocols.join(', ')}`,
    ...st.listen.map((l) => `listening: ${l}`),
    `sessions: ${st.sessions}; pool ${st.pool.cidr}: ${st.pool.inUse} of ${st.pool.size} addresses in use`,
  ]
  const counters = Object.entries(st.counters).filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b))
  if (counters.length > 0) {
    lines.push('counters:')
    const w = Math.max(...counters.map(([k]) => k.length))
    for (const [k, v] of counters) lines.push(`  ${k.padEnd(w)}  ${v}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return 0
}

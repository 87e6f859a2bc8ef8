// `gatehouse firewall --dir DIR`: prints the rules the enabled protocols need; changes nothing.
import { parse, requireDir } from './args.js'
import { loadConfig } from '../config/load.js'
import { renderFirewall } from '../gateway/firewall.js'

export async function runFirewall(args: string[]): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' } })
  const c = loadConfig(requireDir(values.dir))
  process.stdout.write(renderFirewall({ protocols: c.protocols, listen: c.listen, sstpPort: c.sstp.port, pool: c.pool, tunName: c.tun.name, plainL2tp: c.l2tp.allowWithoutIpsec, natInterface: c.forwarding.natInterface }))
  return 0
}

// Two CcpLayers back to back in memory (the session's 0x80FD path), with a manual clock.
import { CcpLayer, type CcpLayerOptions } from '../../src/ppp/ccp/layer.js'
import type { MppePolicy } from '../../src/ppp/ccp/policy.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'

export const MASTER = fromHex('FDECE3717A8C838CB388E527AE3CDD31') // RFC 3079 §3.5 MasterKey

export interface Pair { server: CcpLayer; client: CcpLayer; wire: string[]; pump(): void; now: number }

/** Builds and starts both layers; `pump()` moves CCP packets until both are quiet, logging hex per side. */
export function ccpPair(serverPolicy?: MppePolicy, clientPolicy?: MppePolicy, extra: Partial<CcpLayerOptions> = {}): Pair {
  const server = new CcpLayer({ role: 'server', ...(serverPolicy ? { policy: serverPolicy } : {}), ...extra })
  const client = new CcpLayer({ role: 'client', ...(clientPolicy ? { policy: clientPolicy } : {}), ...extra })
  const pair: Pair = {
    server, client, wire: [], now: 1000,
    pump() {
      for (let guard = 0; guard < 100; guard++) {
        let moved = false
        for (let p = server.pollPacket(); p; p = server.pollPacket()) { pair.wire.push(`S>${toHex(p)}`); client.handleCcp(pair.now, p); moved = true }
        for (let p = client.pollPacket(); p; p = client.pollPacket()) { pair.wire.push(`C>${toHex(p)}`); server.handleCcp(pair.now, p); moved = true }
        if (!moved) return
      }
      throw new Error('CCP pair did not settle')
    },
  }
  server.start(pair.now, MASTER)
  client.start(pair.now, MASTER)
  pair.pump()
  return pair
}

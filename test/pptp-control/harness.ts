// Test harness for the PPTP control cores: a PAC and a PNS wired back to back in memory on a ManualClock.
import { ManualClock, fixedRng } from '../helpers/clock.js'
import { PptpPacConnection } from '../../src/pptp/control/pac-connection.js'
import { PptpPnsConnection } from '../../src/pptp/control/pns-connection.js'
import type { PptpPacOptions, PptpPnsOptions, PptpEvent } from '../../src/pptp/control/connection-types.js'
import { decodeControlMessage } from '../../src/pptp/control/messages.js'
import type { PptpControlMessage } from '../../src/pptp/control/messages.js'

export interface Core { pollTransmit(): Uint8Array | undefined; pollEvent(): PptpEvent | undefined; handleBytes(now: number, b: Uint8Array): void; handleTimeout(now: number): void; nextTimeout(): number | undefined }

export function drainEvents(c: Core): PptpEvent[] { const out: PptpEvent[] = []; for (let e = c.pollEvent(); e; e = c.pollEvent()) out.push(e); return out }
export function drainTx(c: Core): PptpControlMessage[] { const out: PptpControlMessage[] = []; for (let b = c.pollTransmit(); b; b = c.pollTransmit()) out.push(decodeControlMessage(b)); return out }

export class Pair {
  readonly clock = new ClockLike()
  readonly pac: PptpPacConnection
  readonly pns: PptpPnsConnection
  readonly pacEvents: PptpEvent[] = []
  readonly pnsEvents: PptpEvent[] = []
  /** Every message each side sent, decoded, in order. */
  readonly toPac: PptpControlMessage[] = []
  readonly toPns: PptpControlMessage[] = []
  constructor(pac: Partial<PptpPacOptions> = {}, pns: Partial<PptpPnsOptions> = {}) {
    this.pac = new PptpPacConnection({ rng: fixedRng(1), hostName: 'gw', ...pac })
    this.pns = new PptpPnsConnection({ rng: fixedRng(2), hostName: 'client', ...pns }, this.clock.now)
  }
  /** Moves bytes both ways until both are quiet. */
  pump(): void {
    for (let moved = true; moved;) {
      moved = false
      for (let b = this.pns.pollTransmit(); b; b = this.pns.pollTransmit()) { moved = true; this.toPac.push(decodeControlMessage(b)); this.pac.handleBytes(this.clock.now, b) }
      for (let b = this.pac.pollTransmit(); b; b = this.pac.pollTransmit()) { moved = true; this.toPns.push(decodeControlMessage(b)); this.pns.handleBytes(this.clock.now, b) }
    }
    this.pacEvents.push(...drainEvents(this.pac))
    this.pnsEvents.push(...drainEvents(this.pns))
  }
  /** Advances the clock to `ms` later, firing timers that fall due on the way. */
  advance(ms: number): void {
    const end = this.clock.now + ms
    for (;;) {
      const due = [this.pac.nextTimeout(), this.pns.nextTimeout()].filter((t): t is number => t !== undefined && t <= end)
      if (due.length === 0) break
      this.clock.now = Math.max(this.clock.now, Math.min(...due))
      this.pac.handleTimeout(this.clock.now)
      this.pns.handleTimeout(this.clock.now)
      this.pump()
    }
    this.clock.now = end
  }
}

class ClockLike extends ManualClock {}

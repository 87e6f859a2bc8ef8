// Session accounting: one record per tunnel (start, end, addresses, byte and packet counts, reason)
// and one per refused login, in the AAA database; sessions left open by a crash are closed on start.
import { randomBytes } from 'node:crypto'
import { VpnError } from '../lib/errors.js'
import { openAaaDb, type AaaDb } from './database.js'

export interface SessionStart {
  readonly id: string
  readonly user: string
  readonly protocol: string
  /** Peer address as "ip:port". */
  readonly peer: string
  /** ms since the epoch. */
  readonly start: number
}

export interface SessionCounters {
  readonly bytesIn: number
  readonly bytesOut: number
  readonly packetsIn: number
  readonly packetsOut: number
}

export interface SessionEnd extends SessionCounters {
  readonly end: number
  readonly assignedAddress?: string
  /** Why it ended: 'client-disconnect', 'keepalive-timeout', 'admin-kick', 'gateway-restart', … */
  readonly reason: string
}

/** Fields update() may change on an open session (interim accounting). */
export type SessionUpdate = Partial<SessionCounters> & { readonly assignedAddress?: string; readonly user?: string }

export interface SessionRecord extends SessionCounters {
  readonly id: string
  /** 'session' for a tunnel, 'failed-auth' for a refused login (start = end = time of refusal). */
  readonly kind: 'session' | 'failed-auth'
  readonly user: string
  readonly protocol: string
  readonly peer: string
  readonly start: number
  /** Absent while the session is open. */
  readonly end?: number
  readonly assignedAddress?: string
  readonly reason?: string
}

interface RecordRow {
  id: string; kind: 'session' | 'failed-auth'; user: string; protocol: string; peer: string; start: number; end: number | null
  assigned_address: string | null; bytes_in: number; bytes_out: number; packets_in: number; packets_out: number; reason: string | null
}

const nonNegative = (v: number | undefined, field: string): number | undefined => {
  if (v === undefined) return undefined
  if (!Number.isSafeInteger(v) || v < 0) throw new VpnError('ERR_ACCOUNTING', `${field} must be a non-negative integer, got ${v}`)
  return v
}

/**
 * Writes session records. Each call is its own committed transaction (WAL, synchronous=NORMAL),
 * so a process crash loses nothing already written. Misuse (unknown id, a second start with the
 * same id, ending twice) throws VpnError ERR_ACCOUNTING: it is a gateway bug, not peer input.
 */
/** Refused-login records are kept this long and at most this many (the newest); see pruneFailedAuth. */
export const FAILED_AUTH_RETENTION_DAYS = 90
export const FAILED_AUTH_MAX_ROWS = 100_000
const FAILED_AUTH_PRUNE_EVERY = 1000

export class SessionLog {
  private readonly db: AaaDb
  private readonly owned: boolean
  private failedSincePrune = 0

  /** Uses an already migrated connection (see UserStore.sessionLog()); close() leaves it open. */
  constructor(db: AaaDb, owned = false) {
    this.db = db
    this.owned = owned
  }

  /** Opens its own connection to the AAA database file. */
  static open(path: string): SessionLog { return new SessionLog(openAaaDb(path), true) }

  close(): void { if (this.owned) this.db.close() }

  start(rec: SessionStart): void {
    try {
      this.db.prepare("INSERT INTO records (id, kind, user, protocol, peer, start) VALUES (?, 'session', ?, ?, ?, ?)").run(rec.id, rec.user, rec.protocol, rec.peer, rec.start)
    } catch (e) {
      throw new VpnError('ERR_ACCOUNTING', `cannot start session ${rec.id}: ${(e as Error).message}`, { cause: e })
    }
  }

  /** Interim update of an open session (counters are totals, not increments). */
  update(id: string, fields: SessionUpdate): void {
    const r = this.db.prepare(`UPDATE records SET
        user = COALESCE(?, user), assigned_address = COALESCE(?, assigned_address),
        bytes_in = COALESCE(?, bytes_in), bytes_out = COALESCE(?, bytes_out),
        packets_in = COALESCE(?, packets_in), packets_out = COALESCE(?, packets_out)
      WHERE id = ? AND kind = 'session' AND end IS NULL`).run(
      fields.user ?? null, fields.assignedAddress ?? null,
      nonNegative(fields.bytesIn, 'bytesIn') ?? null, nonNegative(fields.bytesOut, 'bytesOut') ?? null,
      nonNegative(fields.packetsIn, 'packetsIn') ?? null, nonNegative(fields.packetsOut, 'packetsOut') ?? null, id)
    if (r.changes === 0) throw new VpnError('ERR_ACCOUNTING', `no open session ${id}`)
  }

  end(id: string, rec: SessionEnd): void {
    const r = this.db.prepare(`UPDATE records SET end = ?, assigned_address = COALESCE(?, assigned_address),
        bytes_in = ?, bytes_out = ?, packets_in = ?, packets_out = ?, reason = ?
      WHERE id = ? AND kind = 'session' AND end IS NULL`).run(
      rec.end, rec.assignedAddress ?? null, nonNegative(rec.bytesIn, 'bytesIn')!, nonNegative(rec.bytesOut, 'bytesOut')!,
      nonNegative(rec.packetsIn, 'packetsIn')!, nonNegative(rec.packetsOut, 'packetsOut')!, rec.reason, id)
    if (r.changes === 0) throw new VpnError('ERR_ACCOUNTING', `no open session ${id}`)
  }

  /** Records a refused login; returns the record id. `reason` is the verdict's reason. */
  failedAuth(rec: { user: string; protocol: string; peer: string; at: number; reason: string }): string {
    const id = `auth-${randomBytes(8).toString('hex')}`
    this.db.prepare("INSERT INTO records (id, kind, user, protocol, peer, start, end, reason) VALUES (?, 'failed-auth', ?, ?, ?, ?, ?, ?)")
      .run(id, rec.user, rec.protocol, rec.peer, rec.at, rec.at, rec.reason)
    // Anyone can cause a refused login: keep these rows bounded without a timer, pruning every so often.
    if (++this.failedSincePrune >= FAILED_AUTH_PRUNE_EVERY) {
      this.failedSincePrune = 0
      this.pruneFailedAuth(rec.at)
    }
    return id
  }

  /**
   * Deletes refused-login records older than FAILED_AUTH_RETENTION_DAYS before `now`, and all but the
   * newest FAILED_AUTH_MAX_ROWS. Session records are never pruned here. Returns how many went.
   */
  pruneFailedAuth(now: number, keepMax = FAILED_AUTH_MAX_ROWS, retentionDays = FAILED_AUTH_RETENTION_DAYS): number {
    const byAge = this.db.prepare("DELETE FROM records WHERE kind = 'failed-auth' AND start < ?").run(now - retentionDays * 86_400_000).changes
    const cutoff = this.db.prepare("SELECT seq FROM records WHERE kind = 'failed-auth' ORDER BY seq DESC LIMIT 1 OFFSET ?").get(keepMax) as { seq: number } | undefined
    const byCount = cutoff ? this.db.prepare("DELETE FROM records WHERE kind = 'failed-auth' AND seq <= ?").run(cutoff.seq).changes : 0
    return byAge + byCount
  }

  /**
   * Closes every session still open (the gateway died without ending them) with reason
   * 'gateway-restart' and end = `now`; their counters stay at the last update(). Returns how many.
   * Call once at start-up, before accepting clients.
   */
  recoverOpen(now: number): number {
    return this.db.prepare("UPDATE records SET end = MAX(?, start), reason = 'gateway-restart' WHERE kind = 'session' AND end IS NULL").run(now).changes
  }

  /** Most recent first; `limit` defaults to 100 (at most 10000); `user` filters (ASCII case-insensitive). */
  list(opts: { limit?: number; user?: string } = {}): SessionRecord[] {
    const limit = Math.max(1, Math.min(10_000, Math.floor(opts.limit ?? 100)))
    const rows = (opts.user === undefined
      ? this.db.prepare('SELECT * FROM records ORDER BY seq DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT * FROM records WHERE user = ? COLLATE NOCASE ORDER BY seq DESC LIMIT ?').all(opts.user, limit)) as RecordRow[]
    return rows.map(toRecord)
  }

  /** One record by id, or undefined. */
  get(id: string): SessionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM records WHERE id = ?').get(id) as RecordRow | undefined
    return row && toRecord(row)
  }
}

function toRecord(r: RecordRow): SessionRecord {
  return {
    id: r.id, kind: r.kind, user: r.user, protocol: r.protocol, peer: r.peer, start: r.start,
    ...(r.end !== null ? { end: r.end } : {}),
    ...(r.assigned_address !== null ? { assignedAddress: r.assigned_address } : {}),
    bytesIn: r.bytes_in, bytesOut: r.bytes_out, packetsIn: r.packets_in, packetsOut: r.packets_out,
    ...(r.reason !== null ? { reason: r.reason } : {}),
  }
}

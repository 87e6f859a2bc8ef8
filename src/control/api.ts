// The management API shared by the CLI now and the web console later: typed commands over one
// request/response shape. The gateway implements ControlHandler; transports carry JSON lines.

export interface SessionInfo {
  readonly id: string
  readonly user: string
  readonly protocol: string
  readonly peer: string
  readonly address: string | undefined
  readonly state: string
  readonly start: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly packetsIn: number
  readonly packetsOut: number
  /** A router account's networks routed over this session (RFC 2865 §5.22 Framed-Route); absent otherwise. */
  readonly routes?: readonly string[]
  /** The carrier's non-zero counters, e.g. PPTP's `gre.lost`, `gre.drop:far-ahead`, `ppp.mppe.resync` (absent when it has none). */
  readonly counters?: Record<string, number>
}

export interface GatewayStatus {
  readonly version: string
  readonly pid: number
  readonly startedAt: number
  readonly protocols: readonly string[]
  readonly listen: readonly string[]
  readonly sessions: number
  readonly pool: { readonly cidr: string; readonly inUse: number; readonly size: number }
  readonly counters: Record<string, number>
}

export type ControlRequest =
  | { readonly cmd: 'status' }
  | { readonly cmd: 'sessions' }
  | { readonly cmd: 'disconnect'; readonly id: string }

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string }

export interface ControlHandler {
  status(): GatewayStatus
  sessions(): SessionInfo[]
  /** Ends a session by id; false when there is no such session. */
  disconnect(id: string): boolean
}

/** Validates an untrusted request object and dispatches it. Never throws. */
export function dispatch(handler: ControlHandler, raw: unknown): ControlResponse {
  if (typeof raw !== 'object' || raw === null || typeof (raw as { cmd?: unknown }).cmd !== 'string') {
    return { ok: false, error: 'request must be a JSON object with a "cmd" string' }
  }
  const req = raw as { cmd: string; id?: unknown }
  try {
    switch (req.cmd) {
      case 'status': return { ok: true, result: handler.status() }
      case 'sessions': return { ok: true, result: handler.sessions() }
      case 'disconnect':
        if (typeof req.id !== 'string') return { ok: false, error: 'disconnect needs "id"' }
        return handler.disconnect(req.id) ? { ok: true, result: { disconnected: req.id } } : { ok: false, error: `no session ${req.id}` }
      default: return { ok: false, error: `unknown command "${req.cmd}" (status, sessions, disconnect)` }
    }
  } catch (e) {
    return { ok: false, error: `internal error: ${(e as Error).message}` }
  }
}

// Named drop/event counters: every discarded peer input is counted with a reason (DESIGN.md §5).

export class Counters {
  private readonly map = new Map<string, number>()
  inc(reason: string, n = 1): void { this.map.set(reason, (this.map.get(reason) ?? 0) + n) }
  get(reason: string): number { return this.map.get(reason) ?? 0 }
  snapshot(): Record<string, number> { return Object.fromEntries(this.map) }
}

/** `c`'s counters renamed "PREFIX.name", for merging several sources into one status view (absent: none). */
export function prefixCounters(prefix: string, c: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(c ?? {})) out[`${prefix}.${k}`] = v
  return out
}

// DESIGN.md §1: protocol folders never import sockets, files, timers or processes; only
// src/transport/ (and composition roots, cli, aaa, pki, config) may. Fails with the offending lines.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const PURE = ['lib', 'crypto', 'ip', 'ppp', 'auth', 'sstp', 'pptp', 'l2tp', 'ike', 'esp', 'radius', 'dataplane']
const FORBIDDEN = /from\s+['"](node:)?(net|dgram|tls|fs|fs\/promises|child_process|timers|timers\/promises|http|https|worker_threads)['"]|\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now)\s*\(/
// lib/log.ts formats wall-clock time for log lines only; it is not a protocol clock.
const ALLOW = new Set(['src/lib/log.ts'])
let bad = 0
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (p.endsWith('.ts') && !ALLOW.has(p)) {
      readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
        if (FORBIDDEN.test(line) && !line.trimStart().startsWith('//') && !line.trimStart().startsWith('*')) {
          console.error(`${p}:${i + 1}: I/O or timer in a protocol folder: ${line.trim()}`); bad++
        }
      })
    }
  }
}
for (const d of PURE) { try { walk(join('src', d)) } catch (e) { if (e.code !== 'ENOENT') throw e } }
// Composition roots compose cores with transport/ adapters; they open no sockets themselves
// (type-only imports of socket types are fine).
const ROOT_FORBIDDEN = /^import (?!type )[^;]*from\s+['"](node:)?(net|dgram|tls)['"]/
for (const d of ['gateway', 'client']) {
  for (const name of readdirSync(join('src', d))) {
    const p = join('src', d, name)
    readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
      if (ROOT_FORBIDDEN.test(line)) { console.error(`${p}:${i + 1}: socket import in a composition root (use src/transport/): ${line.trim()}`); bad++ }
    })
  }
}
if (bad) { console.error(`lint-io: ${bad} violation(s); move I/O to src/transport/`); process.exit(1) }
console.log('lint-io: protocol folders are free of I/O')

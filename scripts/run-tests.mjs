// Runs every compiled test file (dist/test/**/*.test.js) with node:test.
// GATEHOUSE_TEST_FILTER=substring limits the run to matching paths.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}
const filter = process.env.GATEHOUSE_TEST_FILTER
const files = walk('dist/test', []).filter((f) => !filter || f.includes(filter)).sort()
// e2e tests create namespaces and TUN devices: run them one file at a time (concurrency 1).
const unit = files.filter((f) => !f.includes('/e2e/'))
const e2e = files.filter((f) => f.includes('/e2e/'))
let status = 0
if (unit.length) status = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...unit], { stdio: 'inherit' }).status ?? 1
if (e2e.length) {
  const e = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...e2e], { stdio: 'inherit' }).status ?? 1
  status = status || e
}
process.exit(status)

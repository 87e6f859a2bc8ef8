// `gatehouse serve --dir DIR`: the gateway in the foreground; SIGTERM/SIGINT close every session
// cleanly (records written) and exit 0.
import { parse, requireDir } from './args.js'
import { loadConfig } from '../config/load.js'
import { Gateway } from '../gateway/gateway.js'
import { createLogger } from '../lib/log.js'

export async function runServe(args: string[]): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' }, 'log-level': { type: 'string' } })
  const config = loadConfig(requireDir(values.dir))
  const level = (values['log-level'] ?? config.log.level) as 'debug' | 'info' | 'warn' | 'error'
  const log = createLogger(level, 'gatehouse')
  const gw = await Gateway.start(config, log)
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (sig: string): void => {
      if (stopping) return
      stopping = true
      log.info(`received ${sig}`)
      const done = (code: number): void => {
        resolve(code)
        // Everything is closed and recorded: do not let a straggling socket or timer keep the process up.
        setTimeout(() => process.exit(code), 1000).unref()
      }
      gw.stop().then(() => { log.info('stopped'); done(0) }, (e) => { log.error('error during shutdown', { error: (e as Error).message }); done(1) })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
}

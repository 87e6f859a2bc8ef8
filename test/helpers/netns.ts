// node:test glue for the network-namespace lab in src/transport/netns.ts: removes what dead test
// processes left behind, then hands out a lab whose cleanup() runs in after().
import { after } from 'node:test'
import { NetnsLab, removeLeftoverNamespaces } from '../../src/transport/netns.js'

/** A lab (namespaces `${prefix}<name>`, default gh_t<pid36>_) cleaned up by after() and, failing that, on process exit. */
export function useNetnsLab(prefix?: string): NetnsLab {
  removeLeftoverNamespaces()
  const lab = new NetnsLab(prefix)
  after(() => lab.cleanup())
  return lab
}

// Per-interface sysctls through /proc/sys.
import { existsSync, writeFileSync } from 'node:fs'

/**
 * Turns IPv6 off on a tunnel interface: the links carry IPv4 only (IPCP), and the kernel would
 * otherwise send router solicitations into them. A kernel without IPv6 has nothing to turn off.
 */
export function disableIpv6(dev: string): void {
  const p = `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`
  if (existsSync(p)) writeFileSync(p, '1\n')
}

// Packet-filter guidance for `gatehouse firewall`: the inbound ports each enabled protocol needs and
// the forwarding/NAT rules for the client pool, as nftables and as iptables equivalents.

export interface FirewallInput {
  readonly protocols: readonly string[]
  readonly listen: string
  readonly sstpPort: number
  readonly pool: string
  readonly tunName: string
  /** Plain L2TP on UDP 1701 as well (l2tp.allowWithoutIpsec). */
  readonly plainL2tp?: boolean
  /** Outbound interface for masquerading the pool, when NAT is wanted. */
  readonly natInterface?: string
}

interface Inbound { readonly why: string; readonly nft: string; readonly ipt: string }

function inboundFor(p: string, f: FirewallInput): Inbound[] {
  const dst = f.listen === '0.0.0.0' ? '' : ` ip daddr ${f.listen}`
  const iptDst = f.listen === '0.0.0.0' ? '' : ` -d ${f.listen}`
  switch (p) {
    case 'sstp': return [{ why: 'SSTP: HTTPS on TCP', nft: `tcp dport ${f.sstpPort}${dst} accept`, ipt: `-A INPUT -p tcp --dport ${f.sstpPort}${iptDst} -j ACCEPT` }]
    case 'pptp': return [
      { why: 'PPTP control: TCP 1723', nft: `tcp dport 1723${dst} accept`, ipt: `-A INPUT -p tcp --dport 1723${iptDst} -j ACCEPT` },
      { why: 'PPTP data: GRE, IP protocol 47', nft: `ip protocol gre${dst} accept`, ipt: `-A INPUT -p gre${iptDst} -j ACCEPT` },
    ]
    case 'l2tp': return [
      { why: 'L2TP/IPsec: IKE on UDP 500 and NAT-T UDP 4500', nft: `udp dport { 500, 4500 }${dst} accept`, ipt: `-A INPUT -p udp -m multiport --dports 500,4500${iptDst} -j ACCEPT` },
      { why: 'L2TP/IPsec: ESP, IP protocol 50 (UDP 1701 travels inside it: no rule needed)', nft: `ip protocol esp${dst} accept`, ipt: `-A INPUT -p esp${iptDst} -j ACCEPT` },
      ...(f.plainL2tp ? [{ why: 'plain L2TP without IPsec: UDP 1701 (l2tp.allowWithoutIpsec; weak)', nft: `udp dport 1701${dst} accept`, ipt: `-A INPUT -p udp --dport 1701${iptDst} -j ACCEPT` }] : []),
    ]
    case 'ikev2': return [
      { why: 'IKEv2: UDP 500 and 4500', nft: `udp dport { 500, 4500 }${dst} accept`, ipt: `-A INPUT -p udp -m multiport --dports 500,4500${iptDst} -j ACCEPT` },
      { why: 'ESP: IP protocol 50', nft: `ip protocol esp${dst} accept`, ipt: `-A INPUT -p esp${iptDst} -j ACCEPT` },
    ]
    default: return []
  }
}

/** The guidance text. Pure: prints rules, changes nothing. */
export function renderFirewall(f: FirewallInput): string {
  const inbound = f.protocols.flatMap((p) => inboundFor(p, f))
  const nat = f.natInterface ?? 'OUT_IFACE'
  const L: string[] = []
  L.push(`# Gatehouse packet-filter rules for: ${f.protocols.join(', ')}`)
  L.push(`# Client pool ${f.pool} on tunnel interface ${f.tunName}.`)
  L.push('# Gatehouse changes no firewall itself: review these and add them to your own rule set.')
  L.push('')
  L.push('## nftables (e.g. /etc/nftables.conf)')
  L.push('table inet gatehouse {')
  L.push('  chain input {')
  L.push('    type filter hook input priority 0; policy accept;')
  for (const r of inbound) L.push(`    ${r.nft}   # ${r.why}`)
  L.push('  }')
  L.push('  chain forward {')
  L.push('    type filter hook forward priority 0; policy accept;')
  L.push(`    iifname "${f.tunName}" ip saddr ${f.pool} accept   # clients to the networks behind the gateway`)
  L.push(`    oifname "${f.tunName}" ct state established,related accept   # replies back to clients`)
  L.push('  }')
  L.push('}')
  L.push('table ip gatehouse_nat {')
  L.push('  chain postrouting {')
  L.push('    type nat hook postrouting priority 100;')
  L.push(`    ip saddr ${f.pool} oifname "${nat}" masquerade   # only if the private network has no route back to ${f.pool}`)
  L.push('  }')
  L.push('}')
  L.push('')
  L.push('## iptables equivalents')
  for (const r of inbound) L.push(`iptables ${r.ipt}   # ${r.why}`)
  L.push(`iptables -A FORWARD -i ${f.tunName} -s ${f.pool} -j ACCEPT`)
  L.push(`iptables -A FORWARD -o ${f.tunName} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`)
  L.push(`iptables -t nat -A POSTROUTING -s ${f.pool} -o ${nat} -j MASQUERADE   # only if needed, as above`)
  L.push('')
  L.push('## forwarding')
  L.push('sysctl -w net.ipv4.ip_forward=1   # `gatehouse serve` turns this on itself when forwarding.enable is true')
  if (!f.natInterface) L.push('# Replace OUT_IFACE with the interface toward the private network (or set forwarding.natInterface in the config).')
  return L.join('\n') + '\n'
}

// Turns transport failures and close reasons into one sentence that names the cause and the fix.

export function describeConnectError(e: NodeJS.ErrnoException & { reason?: string }, host: string, port: number, protocol = 'SSTP'): string {
  const where = `${host}:${port}`
  switch (e.code) {
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot resolve the gateway name "${host}": check the spelling and your DNS`
    case 'ECONNREFUSED': return `${where} refused the connection: no ${protocol} gateway listens there (is \`gatehouse serve\` running, and is TCP ${port} open in its firewall?)`
    case 'EHOSTUNREACH': case 'ENETUNREACH': return `no route to ${host}: this machine cannot reach the gateway's network`
    case 'ETIMEDOUT': case 'ERR_CONNECT_TIMEOUT': return `connecting to ${where} timed out: the gateway is not answering (down, or a firewall drops TCP ${port})`
    case 'ECONNRESET': return `${where} reset the connection during set-up: is it a ${protocol} gateway?`
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return `the gateway's certificate is not valid for "${host}" (${e.reason ?? e.message}); connect using a name the certificate lists, or reissue it`
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY': case 'UNABLE_TO_GET_ISSUER_CERT':
      return `the gateway's certificate is not trusted (${e.code}): pass --ca FILE with the gateway's CA certificate (ca.pem in its directory)`
    case 'CERT_HAS_EXPIRED': return `the gateway's certificate has expired: renew it on the gateway`
    case 'CERT_NOT_YET_VALID': return `the gateway's certificate is not valid yet: check the clocks`
    default: return `cannot connect to ${where}: ${e.message}`
  }
}

export function describeCloseReason(reason: string, message: string, user: string): string {
  switch (reason) {
    case 'auth-failed': case 'bad-credentials': return `authentication failed for user "${user}": wrong user name or password${message ? ` (server: ${message})` : ''}`
    case 'locked': return `account "${user}" is locked after repeated failures${message ? ` (server: ${message})` : ''}; wait or ask the administrator`
    case 'mutual-auth-failed': return `the gateway could not prove it knows your password (MS-CHAPv2 authenticator response wrong): not connecting to an impostor`
    case 'crypto-binding-failed': return `SSTP crypto binding failed: the TLS connection and the PPP authentication do not belong together (a man-in-the-middle, or a TLS-inspecting proxy)`
    case 'echo-timeout': case 'timeout': return `the gateway stopped answering (${message || reason})`
    case 'peer-terminated': case 'peer-disconnected': return `the gateway closed the connection${message ? `: ${message}` : ''}`
    case 'call-refused': return `the gateway refused the call${message ? ` (${message})` : ''}: it may be out of capacity, or it does not accept calls of this protocol`
    // L2TP (RFC 2661): the control channel went unacknowledged through every retransmission (§5.8), or the LNS sent StopCCN.
    case 'peer-silent': return `the gateway does not answer L2TP on UDP (${message || 'no acknowledgement'}): is \`gatehouse serve\` running with l2tp enabled (l2tp.allowWithoutIpsec), and is UDP 1701 open in its firewall?`
    // L2TP/IPsec: the SA carrying the call ended (the gateway deleted it, dead peer detection, expiry without rekey).
    case 'ipsec-down': return `the IPsec connection to the gateway ended${message ? ` (${message})` : ''}`
    case 'tunnel-closed': return `the gateway closed the L2TP tunnel${message ? ` (${message})` : ''}`
    case 'address-changed': return message || 'the gateway changed the tunnel addresses'
    case 'peer-cleared': return `the gateway ended the call${message ? ` (${message})` : ''}`
    case 'control-closed': return `the gateway closed the control connection${message ? ` (${message})` : ''}`
    case 'eof': return `the connection to the gateway was lost${message ? ` (${message})` : ''}`
    default: return `${reason}${message ? `: ${message}` : ''}`
  }
}

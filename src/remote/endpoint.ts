// How to reach a TCP port a service publishes on a host, for the health checks and the Ollama client alike:
// a port published on the host's loopback only is reached through the host's SSH connection
// (Executor.forward), any other straight at the host's address. A local host is its own loopback.

/** What of a host decides the route: its address, and whether it is this machine. */
export interface EndpointHost {
  address: string
  local: boolean
}

export type Endpoint = { via: 'direct'; address: string; port: number } | { via: 'ssh'; port: number }

/** `loopbackPorts`: the ports the service publishes on the host's loopback only (config/compose.ts loopbackPorts). */
export function resolveEndpoint(host: EndpointHost, port: number, loopbackPorts: readonly number[]): Endpoint {
  if (loopbackPorts.includes(port) && !host.local) return { via: 'ssh', port }
  return { via: 'direct', address: host.address, port }
}

/** `scheme://address:port`, an IPv6 address in brackets; through SSH, the host's loopback at the far end of the tunnel. */
export function endpointOrigin(endpoint: Endpoint, scheme = 'http'): string {
  const address =
    endpoint.via === 'ssh' ? '127.0.0.1' : endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address
  return `${scheme}://${address}:${endpoint.port}`
}

import { mergeService, replicasOf } from './compose.js'
import type { Host, Service } from './model.js'
import { selectHosts } from './select.js'

/** The service definition a host gets: the base plus every override whose selector matches the host. */
export function serviceForHost(
  service: Service,
  host: Host,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
): Record<string, unknown> {
  let out = service.compose
  for (const override of service.overrides) {
    if (selectHosts(override.on, hosts, order).hosts.includes(host.name)) out = mergeService(out, override.set)
  }
  return out
}

/** How many containers of the service a host runs (deploy.replicas after its overrides): 0 is none by design. */
export function replicasOn(
  service: Service,
  host: Host,
  hosts: Readonly<Record<string, Host>>,
  order: readonly string[],
): number {
  return replicasOf(serviceForHost(service, host, hosts, order))
}

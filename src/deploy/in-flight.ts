// The hosts a deploy has started and not finished, followed from the engine's events: what a last
// Ctrl-C, ending the run at once, leaves behind.
import type { DeployEvent } from './engine.js'

/** A host a deploy (or rollback) has started and not finished, as far as its events tell. */
export interface InFlight {
  host: string
  /** Its lock may be held: the lock step started and did not fail. */
  locked: boolean
  /** `current` may point at the new release: the switch step started. */
  switched: boolean
}

/** Follows the engine's events to know the hosts in flight at any moment (for what a last Ctrl-C leaves). */
export function inFlightTracker(): { emit(event: DeployEvent): void; hosts(): InFlight[] } {
  const hosts = new Map<string, InFlight>()
  return {
    emit(event) {
      if (event.type === 'host-start') hosts.set(event.host, { host: event.host, locked: false, switched: false })
      else if (event.type === 'host-done') hosts.delete(event.report.host)
      else if (event.type === 'step' && hosts.has(event.host)) {
        const host = hosts.get(event.host)!
        // a lock step that failed took no lock (held by someone else): never suggest releasing that one
        if (event.step === 'lock') hosts.set(event.host, { ...host, locked: event.phase !== 'failed' })
        if (event.step === 'switch' && event.phase === 'start') hosts.set(event.host, { ...host, switched: true })
      }
    },
    hosts: () => [...hosts.values()],
  }
}

/** What exiting at once leaves of the hosts in flight, in one line: which are mid-deploy, and what frees their locks. */
export function formatLeftInFlight(hosts: readonly InFlight[]): string {
  const locked = hosts.filter((h) => h.locked)
  if (locked.length === 0) return 'no host had taken its lock, so none is left mid-deploy.'
  const names = locked.map((h) => h.host)
  const each = locked.map(
    (h) => `${h.host} (${h.switched ? 'switched to a release not yet checked healthy' : 'locked, not switched'})`,
  )
  return `left mid-deploy: ${each.join(', ')}; \`ai-platform lock release ${names.join(' ')}\` frees ${names.length === 1 ? 'its lock' : 'their locks'} (the next deploy from this machine does too).`
}

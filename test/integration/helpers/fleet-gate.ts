// Whether the integration tier runs: on a developer's machine without the fleet (or without root) its
// suites skip; under CI=true the same situation fails the run, so a broken `npm run fleet:up` cannot pass
// as a green run of skipped suites. vitest.config.ts runs fleetGateSetup before the tier's first file.
import { FLEET_JSON, fleetAvailable } from '../../fleet/fleet.js'

export interface FleetSituation {
  /** Where fleet.json is looked for (AIP_FLEET_JSON, else test/fleet/.state/fleet.json). */
  fleetJson: string
  fleetPresent: boolean
  root: boolean
  ci: boolean
}

export type FleetGate = { action: 'run' } | { action: 'skip' | 'fail'; reason: string }

export function fleetGate(situation: FleetSituation): FleetGate {
  const reason = !situation.fleetPresent
    ? `test fleet not running (${situation.fleetJson} missing): run \`npm run fleet:up\` as root to enable these tests`
    : !situation.root
      ? 'the fleet tests need root (the fleet key and sockets are root-only)'
      : null
  if (reason === null) return { action: 'run' }
  return situation.ci
    ? { action: 'fail', reason: `CI=true and the integration tier cannot run: ${reason}` }
    : { action: 'skip', reason }
}

/** This process's situation. */
export function currentSituation(): FleetSituation {
  const fleetJson = process.env.AIP_FLEET_JSON ?? FLEET_JSON
  return {
    fleetJson,
    fleetPresent: fleetAvailable(fleetJson),
    root: process.getuid?.() === 0,
    ci: process.env.CI === 'true',
  }
}

/** vitest globalSetup of the integration project: throws (failing the run) when the gate says fail. */
export default function fleetGateSetup(): void {
  const gate = fleetGate(currentSituation())
  if (gate.action === 'fail') throw new Error(gate.reason)
}

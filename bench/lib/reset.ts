// hyperfine --prepare: the fleet back to no platform containers and empty base directories.
import { loadFleet } from '../../test/fleet/fleet.js'
import { resetFleet } from '../../test/integration/helpers/platform.js'

await resetFleet(loadFleet())

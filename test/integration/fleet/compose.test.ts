// A compose stack of the generic stand-in service, started over SSH with the host's compose
// (v2 and v1), reached over the bridge from the machine; the unhealthy switch flips its health.
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { fault } from '../../fleet/fleet.js'
import { HAVE_FLEET, IS_ROOT, fleetHost, fleetOrEmpty, onHost, waitFor } from './helpers.js'

const fleet = fleetOrEmpty()
const PROJECT = `standin-${randomBytes(3).toString('hex')}`

function stack(httpPort: number, tcpPort: number): string {
  return `services:
  api:
    image: aip/standin:1
    environment:
      STANDIN_NAME: api
      STANDIN_HTTP_PORTS: "8080,9090"
      STANDIN_TCP_PORTS: "5432"
      STANDIN_HEALTH_PATHS: "/health,/api/health,/-/healthy"
    ports:
      - "${httpPort}:8080"
      - "${tcpPort}:5432"
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 2
`
}

async function health(address: string, port: number, path = '/health'): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://${address}:${port}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(5000) })
  return { status: r.status, body: await r.text() }
}

function tcpEcho(address: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: address, port, timeout: 5000 }, () => s.write(text))
    let got = ''
    s.on('data', (d) => {
      got += d.toString()
      if (got.length >= text.length) {
        s.end()
        resolve(got)
      }
    })
    s.on('error', reject)
    s.on('timeout', () => reject(new Error('tcp timeout')))
  })
}

const cases = [
  {
    host: 'erebus',
    up: `docker compose -p ${PROJECT} up -d --wait`,
    down: `docker compose -p ${PROJECT} down`,
    ps: `docker compose -p ${PROJECT} ps -q api`,
  },
  {
    host: 'hephaestus',
    up: `docker-compose -p ${PROJECT} up -d`,
    down: `docker-compose -p ${PROJECT} down`,
    ps: `docker-compose -p ${PROJECT} ps -q api`,
  },
] as const

describe.skipIf(!HAVE_FLEET)('fleet compose stacks', () => {
  afterAll(async () => {
    if (!HAVE_FLEET) return
    for (const c of cases)
      await onHost(
        fleet,
        fleetHost(fleet, c.host),
        `cd /opt/ai-platform/${PROJECT} 2>/dev/null && ${c.down} >/dev/null 2>&1; rm -rf /opt/ai-platform/${PROJECT}`,
      )
  })

  for (const c of cases) {
    // (collected even when skipped: no lookups that throw without a fleet)
    const host = fleet.hosts.find((h) => h.name === c.host)!
    describe(`${c.host} (compose ${host?.compose ?? '?'})`, () => {
      const [httpPort, tcpPort] = [18000 + Math.floor(Math.random() * 1000), 15000 + Math.floor(Math.random() * 1000)]
      let container = ''

      it("starts the stack with the host's compose and gets healthy", async () => {
        const r = await onHost(
          fleet,
          host,
          `mkdir -p /opt/ai-platform/${PROJECT} && cd /opt/ai-platform/${PROJECT} && cat > docker-compose.yml <<'EOF'\n${stack(httpPort, tcpPort)}EOF\n${c.up} 2>&1 && ${c.ps}`,
        )
        expect(r.code, r.stdout + r.stderr).toBe(0)
        container = r.stdout.trim().split('\n').pop()!
        expect(container).toMatch(/^[0-9a-f]{64}$/)
        await waitFor('docker health "healthy"', async () => {
          const s = await onHost(fleet, host, `docker inspect -f '{{.State.Health.Status}}' ${container}`)
          return s.stdout.trim() === 'healthy'
        })
      })

      it('is reached over the bridge from the machine: HTTP health paths on both ports, TCP echo', async () => {
        expect(await health(host.address, httpPort)).toEqual({ status: 200, body: 'ok\n' })
        expect((await health(host.address, httpPort, '/api/health')).status).toBe(200)
        expect((await health(host.address, httpPort, '/-/healthy')).status).toBe(200)
        expect((await health(host.address, httpPort, '/nope')).status).toBe(404)
        expect(await tcpEcho(host.address, tcpPort, 'PING\n')).toBe('PING\n')
        const inside = await onHost(fleet, host, `docker exec ${container} wget -q -O- http://127.0.0.1:9090/health`)
        expect(inside.stdout).toBe('ok\n')
      })

      it.skipIf(!IS_ROOT)(
        'service-unhealthy makes the health paths fail and docker mark it unhealthy; service-healthy restores',
        async () => {
          await fault(c.host, 'service-unhealthy', container)
          expect((await health(host.address, httpPort)).status).toBe(404)
          await waitFor('docker health "unhealthy"', async () => {
            const s = await onHost(fleet, host, `docker inspect -f '{{.State.Health.Status}}' ${container}`)
            return s.stdout.trim() === 'unhealthy'
          })
          await fault(c.host, 'service-healthy', container)
          expect(await health(host.address, httpPort)).toEqual({ status: 200, body: 'ok\n' })
          await waitFor('docker health "healthy" again', async () => {
            const s = await onHost(fleet, host, `docker inspect -f '{{.State.Health.Status}}' ${container}`)
            return s.stdout.trim() === 'healthy'
          })
        },
      )

      it('labels the containers the compose way and tears down cleanly', async () => {
        const labels = await onHost(
          fleet,
          host,
          `docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}} {{.Name}}' ${container}`,
        )
        const sep = host.compose === 'v2' ? '-' : '_'
        expect(labels.stdout.trim()).toBe(`${PROJECT} /${PROJECT}${sep}api${sep}1`)
        const down = await onHost(
          fleet,
          host,
          `cd /opt/ai-platform/${PROJECT} && ${c.down} 2>&1; docker ps -aq --filter label=com.docker.compose.project=${PROJECT}`,
        )
        expect(down.code).toBe(0)
        expect(down.stdout).not.toMatch(/^[0-9a-f]{12}$/m)
        await expect(health(host.address, httpPort)).rejects.toThrow()
      })
    })
  }
})

// Small helpers for the fleet shell scripts, where JSON is needed.
//   node tool.mjs gpu-config NAME VENDOR COUNT VRAM_GB   -> gpus.json for a host (stdout)
//   node tool.mjs fleet-json                              -> writes .state/fleet.json from .state/hosts/*
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FLEET_DIR = dirname(fileURLToPath(import.meta.url))
const STATE = join(FLEET_DIR, '.state')
const HOSTS = ['erebus', 'hephaestus', 'thanatos', 'zelus', 'orpheus', 'kratos', 'nyx', 'hades', 'moros', 'local']
const GiB = 1024 ** 3

const hex = (s) => createHash('sha256').update(s).digest('hex')
const uuidFrom = (s) => {
  const h = hex(s)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export function gpuConfig(name, vendor, count, vramGb) {
  const gpus = []
  for (let i = 0; i < count; i++) {
    if (vendor === 'nvidia') {
      gpus.push({
        index: i,
        name: 'NVIDIA GeForce RTX 3060',
        uuid: `GPU-${uuidFrom(`${name}/gpu/${i}`)}`,
        pciBusId: `00000000:${String(i + 1).padStart(2, '0')}:00.0`,
        memoryTotalMiB: vramGb * 1024,
        memoryUsedMiB: 1,
        utilizationGpu: 0,
        utilizationMemory: 0,
        temperatureGpu: 34 + i,
        powerDraw: 14.52,
        powerLimit: 170,
        fanSpeed: 0,
        pstate: 'P8',
        computeCap: '8.6',
      })
    } else {
      gpus.push({
        card: i,
        series: 'Radeon RX 7900 XTX',
        model: '0x744c',
        vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]',
        sku: 'EXT94393',
        subsystemId: '0x471e',
        deviceId: '0x744c',
        deviceRev: '0xc8',
        nodeId: i + 1,
        guid: String(parseInt(hex(`${name}/guid/${i}`).slice(0, 4), 16)),
        gfxVersion: 'gfx1100',
        serial: '0x' + hex(`${name}/serial/${i}`).slice(0, 16).toUpperCase(),
        uuid: uuidFrom(`${name}/amd/${i}`),
        pciBus: `0000:${String(3 + i * 0x40).padStart(2, '0')}:00.0`,
        vramTotal: vramGb * GiB,
        vramUsed: 10960896,
        gttTotal: 16 * GiB,
        gttUsed: 11_886_592,
        use: 0,
        power: '31.0',
        tempEdge: `${35 + i}.0`,
        tempJunction: `${37 + i}.0`,
        tempMemory: `${40 + i}.0`,
      })
    }
  }
  return vendor === 'nvidia'
    ? { vendor, driverVersion: '535.183.01', cudaVersion: '12.2', gpus }
    : { vendor, driverVersion: '6.7.0', gpus }
}

const readText = (p) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : '')
const readPid = (p) => {
  const n = Number(readText(p))
  return Number.isInteger(n) && n > 0 ? n : null
}

export function fleetJson() {
  const hostsDir = join(STATE, 'hosts')
  const hosts = []
  for (const name of HOSTS) {
    const dir = join(hostsDir, name)
    const envFile = join(dir, 'host.env')
    if (!existsSync(envFile)) continue
    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]),
    )
    const gpu = env.GPU_VENDOR
      ? {
          vendor: env.GPU_VENDOR,
          count: Number(env.GPU_COUNT),
          vramGb: Number(env.GPU_COUNT) * Number(env.GPU_VRAM_GB),
          vramGbPerGpu: Number(env.GPU_VRAM_GB),
        }
      : null
    const outsideBaseDir = join(dir, 'opt', 'ai-platform')
    const outsideSocket = join(dir, 'run', 'docker.sock')
    const isLocal = name === 'local'
    const entry = {
      name,
      address: env.ADDRESS,
      port: 22,
      user: 'deploy',
      identityFile: join(STATE, 'id_ed25519'),
      compose: env.COMPOSE,
      gpu,
      netns: env.NETNS,
      netnsPath: `/run/netns/${env.NETNS}`,
      // local is reached without SSH, from the machine's own mount namespace: outside paths.
      baseDir: isLocal ? outsideBaseDir : '/opt/ai-platform',
      dockerSocket: isLocal ? join(dir, 'docker.sock') : '/var/run/docker.sock',
      outside: { root: dir, baseDir: outsideBaseDir, dockerSocket: outsideSocket, usrLocal: join(dir, 'usr-local') },
      images: readText(join(dir, 'images')).split('\n').filter(Boolean),
      pids: {
        holder: readPid(join(dir, 'pids', 'holder')),
        sshd: readPid(join(dir, 'pids', 'sshd')),
        dockerd: readPid(join(dir, 'pids', 'dockerd')),
      },
    }
    if (isLocal) {
      entry.env = { DOCKER_HOST: `unix://${join(dir, 'docker.sock')}`, DOCKER_CONFIG: join(dir, 'docker-config') }
    }
    hosts.push(entry)
  }
  const fleet = {
    version: 1,
    stateDir: STATE,
    bridge: 'aipfleet0',
    bridgeAddress: '10.77.0.1',
    subnet: '10.77.0.0/24',
    knownHostsFile: join(STATE, 'known_hosts'),
    identityFile: join(STATE, 'id_ed25519'),
    composeV2Plugin: join(STATE, 'cache', 'compose-v2', 'docker-compose'),
    images: [...new Set(hosts.flatMap((h) => h.images))].sort(),
    hosts,
  }
  // the registry (registry.sh): its address, login and the CA the hosts' engines trust
  const registryDir = join(STATE, 'registry')
  if (existsSync(join(registryDir, 'password'))) {
    fleet.registry = {
      address: '10.77.0.5:5000',
      user: 'fleet',
      passwordFile: join(registryDir, 'password'),
      caFile: join(STATE, 'registry-ca', 'ca.crt'),
    }
  }
  const target = join(STATE, 'fleet.json')
  if (hosts.length === 0) return null
  writeFileSync(`${target}.tmp`, JSON.stringify(fleet, null, 2) + '\n')
  renameSync(`${target}.tmp`, target)
  return fleet
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, ...args] = process.argv.slice(2)
  if (cmd === 'gpu-config') {
    const [name, vendor, count, vram] = args
    process.stdout.write(JSON.stringify(gpuConfig(name, vendor, Number(count), Number(vram)), null, 2) + '\n')
  } else if (cmd === 'fleet-json') {
    const fleet = fleetJson()
    if (!fleet) process.stderr.write('no fleet hosts are set up\n')
  } else {
    process.stderr.write('usage: node tool.mjs gpu-config NAME VENDOR COUNT VRAM_GB | fleet-json\n')
    process.exit(2)
  }
}

// Stand-ins for nvidia-smi, rocm-smi and amd-smi on fleet GPU hosts.
// Usage (from the wrappers in /usr/local/bin): node gpu-standin.mjs <tool> [args...]
// GPUs come from /usr/local/etc/aip-gpu/gpus.json (per host); the file
// /usr/local/etc/aip-gpu/driver-missing switches on the "driver not loaded" failure.
// Output formats and exit codes are the real tools': nvidia-smi prints CSV rows (", " between fields)
// and its errors on stdout (driver not loaded: exit 9; no GPU: exit 6); rocm-smi --json prints one line
// of JSON, a "cardN" object per GPU with every value a string, and its errors on stderr (driver not
// loaded: exit 0 all the same).
import { existsSync, readFileSync } from 'node:fs'

const CONFIG_DIR = process.env.AIP_GPU_CONFIG_DIR ?? '/usr/local/etc/aip-gpu'

export function loadConfig(dir = CONFIG_DIR) {
  return {
    ...JSON.parse(readFileSync(`${dir}/gpus.json`, 'utf8')),
    driverMissing: existsSync(`${dir}/driver-missing`),
  }
}

// ---------------------------------------------------------------- nvidia-smi

const NVIDIA_DRIVER_ERROR =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. " +
  'Make sure that the latest NVIDIA driver is installed and running.\n'
const INVALID_ARGS = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"

// canonical field -> { unit for the csv header/value, value(gpu, cfg) }
const NVIDIA_FIELDS = {
  timestamp: { value: () => nvTimestamp(new Date()) },
  driver_version: { value: (g, c) => c.driverVersion },
  count: { value: (g, c) => String(c.gpus.length) },
  index: { value: (g) => String(g.index) },
  name: { value: (g) => g.name },
  serial: { value: (g) => g.serial ?? '[N/A]' },
  uuid: { value: (g) => g.uuid },
  'pci.bus_id': { value: (g) => g.pciBusId },
  vbios_version: { value: (g) => g.vbiosVersion ?? '94.06.2F.00.9B' },
  compute_cap: { value: (g) => g.computeCap ?? '8.6' },
  pstate: { value: (g) => g.pstate ?? 'P8' },
  'fan.speed': { unit: '%', value: (g) => String(g.fanSpeed ?? 0) },
  'memory.total': { unit: 'MiB', value: (g) => String(g.memoryTotalMiB) },
  'memory.reserved': { unit: 'MiB', value: (g) => String(g.memoryReservedMiB ?? 0) },
  'memory.used': { unit: 'MiB', value: (g) => String(g.memoryUsedMiB) },
  'memory.free': {
    unit: 'MiB',
    value: (g) => String(g.memoryTotalMiB - g.memoryUsedMiB - (g.memoryReservedMiB ?? 0)),
  },
  'utilization.gpu': { unit: '%', value: (g) => String(g.utilizationGpu ?? 0) },
  'utilization.memory': { unit: '%', value: (g) => String(g.utilizationMemory ?? 0) },
  'temperature.gpu': { value: (g) => String(g.temperatureGpu ?? 35) },
  'power.draw': { unit: 'W', value: (g) => (g.powerDraw ?? 14.5).toFixed(2) },
  'power.limit': { unit: 'W', value: (g) => (g.powerLimit ?? 170).toFixed(2) },
  'clocks.sm': { unit: 'MHz', value: (g) => String(g.clockSm ?? 210) },
  'clocks.mem': { unit: 'MHz', value: (g) => String(g.clockMem ?? 405) },
}
const NVIDIA_ALIASES = {
  gpu_name: 'name',
  gpu_serial: 'serial',
  gpu_uuid: 'uuid',
  gpu_bus_id: 'pci.bus_id',
  vbios: 'vbios_version',
  fan_speed: 'fan.speed',
  'memory.total [MiB]': 'memory.total',
  'utilization.gpu [%]': 'utilization.gpu',
}

function nvTimestamp(d) {
  const p = (n, w = 2) => String(n).padStart(w, '0')
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

function parseNvidiaArgs(argv) {
  const opts = {
    format: null,
    query: null,
    apps: null,
    ids: null,
    list: false,
    version: false,
    help: false,
    details: false,
  }
  const takeValue = (i, arg, name) => {
    if (arg.includes('=')) return [arg.slice(arg.indexOf('=') + 1), i]
    if (i + 1 >= argv.length) throw new Error(`missing value for ${name}`)
    return [argv[i + 1], i + 1]
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    let v
    if (arg.startsWith('--query-gpu')) {
      ;[v, i] = takeValue(i, arg, '--query-gpu')
      opts.query = v
    } else if (arg.startsWith('--query-compute-apps')) {
      ;[v, i] = takeValue(i, arg, '--query-compute-apps')
      opts.apps = v
    } else if (arg.startsWith('--format')) {
      ;[v, i] = takeValue(i, arg, '--format')
      opts.format = v
    } else if (arg.startsWith('--id')) {
      ;[v, i] = takeValue(i, arg, '--id')
      opts.ids = v
    } else if (arg === '-i') {
      ;[v, i] = takeValue(i, arg, '-i')
      opts.ids = v
    } else if (arg.startsWith('-i') && arg.length > 2) opts.ids = arg.slice(2)
    else if (arg === '-L' || arg === '--list-gpus') opts.list = true
    else if (arg === '--version') opts.version = true
    else if (arg === '-h' || arg === '--help') opts.help = true
    else if (arg === '-q' || arg === '--query') opts.details = true
    else throw new Error(`unknown argument ${arg}`)
  }
  return opts
}

function selectGpus(cfg, ids) {
  if (ids == null) return cfg.gpus
  const wanted = ids.split(',').map((s) => s.trim())
  const picked = cfg.gpus.filter(
    (g) => wanted.includes(String(g.index)) || wanted.includes(g.uuid) || wanted.includes(g.pciBusId),
  )
  return picked.length === wanted.length ? picked : null
}

export function nvidiaSmi(argv, cfg) {
  let opts
  try {
    opts = parseNvidiaArgs(argv)
  } catch {
    return { stdout: INVALID_ARGS, stderr: '', code: 2 }
  }
  if (opts.help)
    return { stdout: 'NVIDIA System Management Interface -- v' + cfg.driverVersion + '\n', stderr: '', code: 0 }
  // The driver check comes first: every form fails the same way without it.
  if (cfg.driverMissing) return { stdout: NVIDIA_DRIVER_ERROR, stderr: '', code: 9 }
  if (opts.version) {
    return {
      stdout:
        `NVIDIA-SMI version  : ${cfg.driverVersion}\nNVML version        : ${cfg.driverVersion.split('.').slice(0, 2).join('.')}\n` +
        `DRIVER version      : ${cfg.driverVersion}\nCUDA Version        : ${cfg.cudaVersion}\n`,
      stderr: '',
      code: 0,
    }
  }
  const gpus = selectGpus(cfg, opts.ids)
  if (gpus === null) return { stdout: `No devices were found\n`, stderr: '', code: 6 }
  if (opts.list) {
    return { stdout: gpus.map((g) => `GPU ${g.index}: ${g.name} (UUID: ${g.uuid})\n`).join(''), stderr: '', code: 0 }
  }
  if (opts.query != null || opts.apps != null) {
    if (opts.format == null) return { stdout: INVALID_ARGS, stderr: '', code: 2 }
    const fmt = opts.format.split(',').map((s) => s.trim())
    if (!fmt.includes('csv') || fmt.some((f) => !['csv', 'noheader', 'nounits'].includes(f))) {
      return { stdout: INVALID_ARGS, stderr: '', code: 2 }
    }
    const header = !fmt.includes('noheader')
    const units = !fmt.includes('nounits')
    if (opts.apps != null) {
      // No compute processes run on a stand-in GPU: header only (or nothing).
      const names = opts.apps.split(',').map((s) => s.trim())
      return { stdout: header ? names.join(', ') + '\n' : '', stderr: '', code: 0 }
    }
    const fields = []
    for (const raw of opts.query.split(',').map((s) => s.trim())) {
      const name = NVIDIA_ALIASES[raw] ?? raw
      if (!NVIDIA_FIELDS[name])
        return { stdout: `Field "${raw}" is not a valid field to query.\n\n`, stderr: '', code: 2 }
      fields.push(name)
    }
    const lines = []
    if (header)
      lines.push(fields.map((f) => (NVIDIA_FIELDS[f].unit ? `${f} [${NVIDIA_FIELDS[f].unit}]` : f)).join(', '))
    for (const g of gpus) {
      lines.push(
        fields
          .map((f) => {
            const { unit, value } = NVIDIA_FIELDS[f]
            const v = value(g, cfg)
            return units && unit && !v.startsWith('[') ? `${v} ${unit}` : v
          })
          .join(', '),
      )
    }
    return { stdout: lines.join('\n') + '\n', stderr: '', code: 0 }
  }
  if (opts.details) return { stdout: nvidiaDetails(gpus, cfg), stderr: '', code: 0 }
  return { stdout: nvidiaTable(gpus, cfg), stderr: '', code: 0 }
}

function nvidiaDetails(gpus, cfg) {
  const out = [
    '',
    '==============NVSMI LOG==============',
    '',
    `Timestamp                                 : ${new Date().toString()}`,
    `Driver Version                            : ${cfg.driverVersion}`,
    `CUDA Version                              : ${cfg.cudaVersion}`,
    '',
    `Attached GPUs                             : ${cfg.gpus.length}`,
  ]
  for (const g of gpus) {
    out.push(
      `GPU ${g.pciBusId}`,
      `    Product Name                          : ${g.name}`,
      `    GPU UUID                              : ${g.uuid}`,
      '    FB Memory Usage',
      `        Total                             : ${g.memoryTotalMiB} MiB`,
      `        Used                              : ${g.memoryUsedMiB} MiB`,
      `        Free                              : ${g.memoryTotalMiB - g.memoryUsedMiB} MiB`,
      '',
    )
  }
  return out.join('\n') + '\n'
}

function asctime(d) {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const p = (n) => String(n).padStart(2, '0')
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`
}

function nvidiaTable(gpus, cfg) {
  const spread = (left, right, width) => left + ' '.repeat(Math.max(1, width - left.length - right.length)) + right
  const row = (a, b, c) => `|${a}|${b}|${c}|`
  const full = (s) => `|${s.padEnd(87)}|`
  const rule = (ch, joint, ends = joint) => ends + ch.repeat(41) + joint + ch.repeat(22) + joint + ch.repeat(22) + ends
  const out = [
    asctime(new Date()).padEnd(30),
    '+' + '-'.repeat(87) + '+',
    full(
      ` NVIDIA-SMI ${cfg.driverVersion}`.padEnd(34) +
        `Driver Version: ${cfg.driverVersion}`.padEnd(31) +
        `CUDA Version: ${cfg.cudaVersion}`,
    ),
    rule('-', '+', '|'),
    row(' GPU  Name                 Persistence-M ', ' Bus-Id        Disp.A ', ' Volatile Uncorr. ECC '),
    row(' Fan  Temp   Perf          Pwr:Usage/Cap ', '         Memory-Usage ', ' GPU-Util  Compute M. '),
    row('                                         ', '                      ', '               MIG M. '),
    rule('=', '+', '|'),
  ]
  for (const g of gpus) {
    const pwr = `${Math.round(g.powerDraw ?? 14.5)}W / ${Math.round(g.powerLimit ?? 170)}W`
    const fan = `${g.fanSpeed ?? 0}%`.padStart(4)
    out.push(
      row(
        spread(` ${String(g.index).padStart(3)}  ${g.name}`, 'Off ', 41),
        spread(` ${g.pciBusId}`, 'Off ', 22),
        spread('', 'N/A ', 22),
      ),
      row(
        spread(`${fan}   ${g.temperatureGpu ?? 35}C    ${g.pstate ?? 'P8'}`, `${pwr} `, 41),
        spread('', `${g.memoryUsedMiB}MiB / ${g.memoryTotalMiB}MiB `, 22),
        spread(`${String(g.utilizationGpu ?? 0).padStart(8)}%`, 'Default ', 22),
      ),
      row(' '.repeat(41), ' '.repeat(22), spread('', 'N/A ', 22)),
      rule('-', '+'),
    )
  }
  out.push(
    ' '.repeat(89),
    '+' + '-'.repeat(87) + '+',
    full(' Processes:'),
    full('  GPU   GI   CI        PID   Type   Process name                            GPU Memory'),
    full('        ID   ID                                                             Usage'),
    '|' + '='.repeat(87) + '|',
    full('  No running processes found'),
    '+' + '-'.repeat(87) + '+',
  )
  return out.join('\n') + '\n'
}

// ---------------------------------------------------------------- rocm-smi

const ROCM_DRIVER_ERROR = 'ERROR:root:Driver not initialized (amdgpu not found in modules)\n'

// Flags in the order rocm_smi.py executes them (not the order given on the command line).
const ROCM_ORDER = [
  'showdriverversion',
  'showid',
  'showtemp',
  'showpower',
  'showuse',
  'showmemuse',
  'showbus',
  'showmeminfo',
  'showproductname',
]

function parseRocmArgs(argv) {
  const flags = new Set()
  const o = { json: false, csv: false, meminfo: [], devices: null, flags }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    switch (a) {
      case '--json':
        o.json = true
        break
      case '--csv':
        o.csv = true
        break
      case '-i':
      case '--showid':
        flags.add('showid')
        break
      case '-t':
      case '--showtemp':
        flags.add('showtemp')
        break
      case '-u':
      case '--showuse':
        flags.add('showuse')
        break
      case '--showmemuse':
        flags.add('showmemuse')
        break
      case '-P':
      case '--showpower':
        flags.add('showpower')
        break
      case '--showbus':
        flags.add('showbus')
        break
      case '--showproductname':
        flags.add('showproductname')
        break
      case '--showdriverversion':
        flags.add('showdriverversion')
        break
      case '-a':
      case '--showallinfo':
        for (const f of ROCM_ORDER) flags.add(f)
        o.meminfo.push('all')
        break
      case '--showmeminfo': {
        flags.add('showmeminfo')
        while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) o.meminfo.push(argv[++i].toLowerCase())
        if (o.meminfo.length === 0)
          return { error: 'rocm-smi: error: argument --showmeminfo: expected at least one argument\n' }
        break
      }
      case '-d':
      case '--device': {
        o.devices = []
        while (i + 1 < argv.length && /^\d+$/.test(argv[i + 1])) o.devices.push(Number(argv[++i]))
        break
      }
      default:
        return { error: `usage: rocm-smi [-h] ...\nrocm-smi: error: unrecognized arguments: ${a}\n` }
    }
  }
  return o
}

function rocmRecords(gpu, flag, meminfo) {
  const r = []
  switch (flag) {
    case 'showid':
      r.push(
        ['Device Name', gpu.series],
        ['Device ID', gpu.deviceId],
        ['Device Rev', gpu.deviceRev],
        ['Subsystem ID', gpu.subsystemId],
        ['GUID', gpu.guid],
      )
      break
    case 'showtemp':
      r.push(
        ['Temperature (Sensor edge) (C)', gpu.tempEdge],
        ['Temperature (Sensor junction) (C)', gpu.tempJunction],
        ['Temperature (Sensor memory) (C)', gpu.tempMemory],
      )
      break
    case 'showpower':
      r.push(['Current Socket Graphics Package Power (W)', gpu.power])
      break
    case 'showuse':
      r.push(['GPU use (%)', String(gpu.use)])
      break
    case 'showmemuse':
      r.push(
        ['GPU Memory Allocated (VRAM%)', String(Math.round((gpu.vramUsed / gpu.vramTotal) * 100))],
        ['GPU Memory Read/Write Activity (%)', '0'],
      )
      break
    case 'showbus':
      r.push(['PCI Bus', gpu.pciBus])
      break
    case 'showmeminfo': {
      const types = meminfo.includes('all') ? ['vram', 'vis_vram', 'gtt'] : meminfo
      for (const t of types) {
        const T = t.toUpperCase()
        const total = t === 'gtt' ? gpu.gttTotal : gpu.vramTotal
        const used = t === 'gtt' ? gpu.gttUsed : gpu.vramUsed
        r.push([`${T} Total Memory (B)`, String(total)], [`${T} Total Used Memory (B)`, String(used)])
      }
      break
    }
    case 'showproductname':
      r.push(
        ['Card Series', gpu.series],
        ['Card Model', gpu.model],
        ['Card Vendor', gpu.vendor],
        ['Card SKU', gpu.sku],
        ['Subsystem ID', gpu.subsystemId],
        ['Device Rev', gpu.deviceRev],
        ['Node ID', String(gpu.nodeId)],
        ['GUID', gpu.guid],
        ['GFX Version', gpu.gfxVersion],
      )
      break
  }
  return r
}

// json.dumps() with Python's default separators (', ' and ': '), as rocm_smi.py prints it.
function pythonJson(v) {
  if (v !== null && typeof v === 'object') {
    return (
      '{' +
      Object.entries(v)
        .map(([k, x]) => `${JSON.stringify(k)}: ${pythonJson(x)}`)
        .join(', ') +
      '}'
    )
  }
  return JSON.stringify(v)
}

const ROCM_TITLES = {
  showid: ' ID ',
  showtemp: ' Temperature ',
  showpower: ' Power Consumption ',
  showuse: ' % time GPU is busy ',
  showmemuse: ' Current Memory Use ',
  showbus: ' PCI Bus ID ',
  showmeminfo: ' Memory Usage (Bytes) ',
  showproductname: ' Product Info ',
  showdriverversion: ' Version of System Component ',
}
const spacer = (title = '') => {
  const width = 90
  const left = Math.floor((width - title.length) / 2)
  return '='.repeat(left) + title + '='.repeat(width - left - title.length)
}

export function rocmSmi(argv, cfg) {
  const o = parseRocmArgs(argv)
  if (o.error) return { stdout: '', stderr: o.error, code: 2 }
  // rocm_smi.py checks /sys/module/amdgpu before anything else, logs to stderr and exits 0.
  if (cfg.driverMissing) return { stdout: '', stderr: ROCM_DRIVER_ERROR, code: 0 }
  const gpus = o.devices ? cfg.gpus.filter((g) => o.devices.includes(g.card)) : cfg.gpus
  const flags = ROCM_ORDER.filter((f) => o.flags.has(f))
  if (flags.length === 0) flags.push('showid', 'showtemp', 'showpower', 'showuse', 'showmeminfo')
  if (o.json || o.csv) {
    const data = {}
    for (const g of gpus) data[`card${g.card}`] = {}
    for (const f of flags) {
      if (f === 'showdriverversion') {
        data.system = { ...(data.system ?? {}), 'Driver version': cfg.driverVersion }
        continue
      }
      for (const g of gpus)
        for (const [k, v] of rocmRecords(g, f, o.meminfo)) data[`card${g.card}`][k] = String(v).trim()
    }
    // system keys come first in the real tool when --showdriverversion is given
    const ordered = data.system ? { system: data.system, ...data } : data
    if (o.csv) {
      const keys = [...new Set(gpus.flatMap((g) => Object.keys(data[`card${g.card}`])))]
      const rows = [
        'device,' + keys.join(','),
        ...gpus.map(
          (g) => `card${g.card},` + keys.map((k) => (data[`card${g.card}`][k] ?? 'N/A').replace(/,/g, '')).join(','),
        ),
      ]
      return { stdout: rows.join('\n') + '\n\n', stderr: '', code: 0 }
    }
    return { stdout: pythonJson(ordered) + '\n', stderr: '', code: 0 }
  }
  const out = ['', '', spacer(' ROCm System Management Interface ')]
  for (const f of flags) {
    out.push(spacer(ROCM_TITLES[f]))
    if (f === 'showdriverversion') out.push(`Driver version: ${cfg.driverVersion}`)
    else
      for (const g of gpus)
        for (const [k, v] of rocmRecords(g, f, o.meminfo)) out.push(`GPU[${g.card}]\t\t: ${k}: ${v}`)
    out.push(spacer())
  }
  out.push(spacer(' End of ROCm SMI Log '))
  return { stdout: out.join('\n') + '\n', stderr: '', code: 0 }
}

// ---------------------------------------------------------------- amd-smi (ROCm 6.x array shape)

export function amdSmi(argv, cfg) {
  const [cmd, ...rest] = argv
  const json = rest.includes('--json')
  if (cmd === 'version') {
    return {
      stdout: `AMDSMI Tool: 24.6.3+9578815 | AMDSMI Library version: 24.6.3.0 | ROCm version: 6.2.4\n`,
      stderr: '',
      code: 0,
    }
  }
  if (cfg.driverMissing) {
    return {
      stdout: '',
      stderr:
        'ERROR:root:Unable to detect any GPU devices, check amdgpu version and module status (sudo modprobe amdgpu)\n',
      code: 1,
    }
  }
  const vu = (value, unit) => ({ value, unit })
  const mib = (b) => Math.floor(b / (1024 * 1024))
  let data
  if (cmd === 'list') {
    data = cfg.gpus.map((g) => ({
      gpu: g.card,
      bdf: g.pciBus.toLowerCase(),
      uuid: g.uuid,
      kfd_id: Number(g.guid),
      node_id: g.nodeId,
      partition_id: 0,
    }))
  } else if (cmd === 'static') {
    data = cfg.gpus.map((g) => ({
      gpu: g.card,
      asic: {
        market_name: g.series,
        vendor_id: '0x1002',
        vendor_name: 'Advanced Micro Devices Inc. [AMD/ATI]',
        subvendor_id: '0x1eae',
        device_id: g.deviceId,
        subsystem_id: g.subsystemId,
        rev_id: g.deviceRev,
        asic_serial: g.serial,
        oam_id: 'N/A',
        num_compute_units: 96,
        target_graphics_version: g.gfxVersion,
      },
    }))
  } else if (cmd === 'metric') {
    data = cfg.gpus.map((g) => ({
      gpu: g.card,
      usage: {
        gfx_activity: vu(g.use, '%'),
        umc_activity: vu(0, '%'),
        mm_activity: vu(0, '%'),
        vcn_activity: [vu(0, '%'), 'N/A', 'N/A', 'N/A'],
      },
      mem_usage: {
        total_vram: vu(mib(g.vramTotal), 'MB'),
        used_vram: vu(mib(g.vramUsed), 'MB'),
        free_vram: vu(mib(g.vramTotal - g.vramUsed), 'MB'),
        total_visible_vram: vu(mib(g.vramTotal), 'MB'),
        used_visible_vram: vu(mib(g.vramUsed), 'MB'),
        free_visible_vram: vu(mib(g.vramTotal - g.vramUsed), 'MB'),
        total_gtt: vu(mib(g.gttTotal), 'MB'),
        used_gtt: vu(mib(g.gttUsed), 'MB'),
        free_gtt: vu(mib(g.gttTotal - g.gttUsed), 'MB'),
      },
    }))
  } else {
    return {
      stdout: '',
      stderr: `usage: amd-smi [-h] {version,list,static,firmware,bad-pages,metric,process,...}\n`,
      code: 2,
    }
  }
  if (json) return { stdout: JSON.stringify(data, null, 4) + '\n', stderr: '', code: 0 }
  return {
    stdout:
      data
        .map(
          (d) =>
            `GPU: ${d.gpu}\n` +
            Object.entries(d)
              .filter(([k]) => k !== 'gpu')
              .map(([k, v]) => `    ${k.toUpperCase()}: ${JSON.stringify(v)}`)
              .join('\n'),
        )
        .join('\n\n') + '\n',
    stderr: '',
    code: 0,
  }
}

// ---------------------------------------------------------------- main

const tools = { 'nvidia-smi': nvidiaSmi, 'rocm-smi': rocmSmi, 'amd-smi': amdSmi }

if (import.meta.url === `file://${process.argv[1]}`) {
  const [tool, ...argv] = process.argv.slice(2)
  const run = tools[tool]
  if (!run) {
    process.stderr.write(`gpu-standin: unknown tool ${tool}\n`)
    process.exit(127)
  }
  const { stdout, stderr, code } = run(argv, loadConfig())
  process.stdout.write(stdout)
  process.stderr.write(stderr)
  process.exitCode = code
}

// The `ollama` command of the stand-in image: `ollama serve` runs the server; `ollama list`,
// `ps`, `pull`, `rm`, `show` and `--version` talk to it through OLLAMA_HOST like the real CLI
// (so the compose healthcheck ["CMD", "ollama", "list"] works).
import { request } from 'node:http'
import { humanBytes, humanTime } from './format.mjs'
import { DEFAULT_VERSION, createOllamaServer, optionsFromEnv, parseHost } from './server.mjs'

const VERSION = process.env.OLLAMA_STANDIN_VERSION || DEFAULT_VERSION
const CONNECT_ERROR = "could not connect to ollama server, run 'ollama serve' to start it"

function target() {
  const { host, port } = parseHost(process.env.OLLAMA_HOST)
  return { host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port }
}

function call(method, path, body, onLine) {
  return new Promise((resolve, reject) => {
    const { host, port } = target()
    const data = body ? Buffer.from(JSON.stringify(body)) : null
    const req = request(
      {
        host,
        port,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      },
      (res) => {
        let buf = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          buf += chunk
          if (onLine) {
            let i
            while ((i = buf.indexOf('\n')) >= 0) {
              onLine(JSON.parse(buf.slice(0, i)))
              buf = buf.slice(i + 1)
            }
          }
        })
        res.on('end', () => resolve({ status: res.statusCode, body: buf }))
      },
    )
    req.on('error', (e) => reject(e.code === 'ECONNREFUSED' ? new Error(CONNECT_ERROR) : e))
    if (data) req.write(data)
    req.end()
  })
}

async function checked(method, path, body, onLine) {
  const r = await call(method, path, body, onLine)
  if (r.status >= 400) {
    let msg = r.body
    try {
      msg = JSON.parse(r.body).error ?? msg
    } catch {
      // not JSON
    }
    throw new Error(msg)
  }
  return r
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows
    .map(
      (r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('    ')
          .trimEnd() + '    \n',
    )
    .join('')
}

const commands = {
  async serve() {
    const opts = optionsFromEnv()
    const { host, port } = parseHost(opts.host)
    const ollama = createOllamaServer(opts)
    ollama.server.listen(port, host, () => {
      process.stderr.write(
        `time=${new Date().toISOString()} level=INFO source=routes.go msg="Listening on ${host}:${port} (version ${opts.version})"\n`,
      )
    })
    const stop = () => {
      ollama.close().then(() => process.exit(0))
      setTimeout(() => process.exit(0), 2000).unref()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    return new Promise(() => {})
  },

  async list() {
    const { body } = await checked('GET', '/api/tags')
    const rows = [['NAME', 'ID', 'SIZE', 'MODIFIED']]
    for (const m of JSON.parse(body).models)
      rows.push([m.name, m.digest.slice(0, 12), humanBytes(m.size), humanTime(new Date(m.modified_at))])
    process.stdout.write(table(rows))
  },

  async ps() {
    const { body } = await checked('GET', '/api/ps')
    const rows = [['NAME', 'ID', 'SIZE', 'PROCESSOR', 'CONTEXT', 'UNTIL']]
    for (const m of JSON.parse(body).models)
      rows.push([m.name, m.digest.slice(0, 12), humanBytes(m.size), '100% GPU', String(m.context_length ?? ''), ''])
    process.stdout.write(table(rows))
  },

  async pull(name) {
    if (!name) throw new Error('accepts 1 arg(s), received 0')
    let last = ''
    await checked('POST', '/api/pull', { model: name }, (p) => {
      if (p.error) throw new Error(p.error)
      const line = p.digest
        ? `${p.status} ${Math.floor(((p.completed ?? 0) / p.total) * 100)}% ${humanBytes(p.total)}`
        : p.status
      if (line !== last) process.stderr.write(line + '\n')
      last = line
    })
  },

  async rm(...names) {
    for (const name of names) {
      await checked('DELETE', '/api/delete', { model: name })
      process.stdout.write(`deleted '${name}'\n`)
    }
  },

  async show(name) {
    const { body } = await checked('POST', '/api/show', { model: name })
    const r = JSON.parse(body)
    process.stdout.write(
      `  Model\n    architecture    ${r.model_info['general.architecture']}\n    parameters      ${r.details.parameter_size}\n    quantization    ${r.details.quantization_level}\n\n`,
    )
  },

  async version() {
    let server = ''
    try {
      server = JSON.parse((await call('GET', '/api/version')).body).version
    } catch {
      process.stdout.write('Warning: could not connect to a running Ollama instance\n')
    }
    if (server) process.stdout.write(`ollama version is ${server}\n`)
    if (server !== VERSION) process.stdout.write(`Warning: client version is ${VERSION}\n`)
  },
}
commands.ls = commands.list
commands.delete = commands.rm

const [cmd, ...args] = process.argv.slice(2)
const name = cmd === '--version' || cmd === '-v' ? 'version' : cmd
if (!name || name === '-h' || name === '--help' || !commands[name]) {
  process.stdout.write(
    'Large language model runner (stand-in)\n\nUsage:\n  ollama [flags]\n  ollama [command]\n\nAvailable Commands:\n  serve, pull, list, ps, rm, show\n\nFlags:\n  -h, --help      help for ollama\n  -v, --version   Show version information\n',
  )
  process.exit(name && !commands[name] && name !== '-h' && name !== '--help' ? 1 : 0)
}
try {
  await commands[name](...args)
} catch (err) {
  process.stderr.write(`Error: ${err.message}\n`)
  process.exit(1)
}

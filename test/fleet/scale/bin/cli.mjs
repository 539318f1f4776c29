#!/usr/bin/env node
// The rest of `docker` on a scale host, as a client of the host's stand-in engine (like the real CLI):
//   ps [-a] [-q]   images   inspect ID|NAME   image inspect IMAGE   pull IMAGE   logs ID|NAME
//   stop | start | kill | restart ID|NAME...
import { request } from 'node:http'

const socketPath = `${process.env.AIP_SCALE_DIR}/docker.sock`
const args = process.argv.slice(2)

function api(method, path) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: `/v1.45${path}`, headers: { Host: 'docker' } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

const json = (r) => JSON.parse(r.body.toString('utf8'))
const errorOf = (r) => `Error response from daemon: ${json(r).message}`

async function inspect(kind, names) {
  const out = []
  for (const name of names) {
    const r = await api(
      'GET',
      kind === 'image' ? `/images/${name}/json` : `/containers/${encodeURIComponent(name)}/json`,
    )
    if (r.status !== 200) {
      process.stdout.write(`${JSON.stringify(out, null, 4)}\n`)
      fail(kind === 'image' ? `Error response from daemon: No such image: ${name}` : `Error: No such object: ${name}`)
    }
    out.push(json(r))
  }
  process.stdout.write(`${JSON.stringify(out, null, 4)}\n`)
}

async function main() {
  const [command, ...rest] = args
  switch (command) {
    case 'ps': {
      const all = rest.includes('-a') || rest.includes('--all')
      const list = json(await api('GET', `/containers/json${all ? '?all=1' : ''}`))
      if (rest.includes('-q')) return list.forEach((c) => process.stdout.write(`${c.Id.slice(0, 12)}\n`))
      process.stdout.write('CONTAINER ID   IMAGE                          STATUS                       NAMES\n')
      for (const c of list)
        process.stdout.write(
          `${c.Id.slice(0, 12)}   ${c.Image.padEnd(30)} ${c.Status.padEnd(28)} ${c.Names[0].slice(1)}\n`,
        )
      return
    }
    case 'images': {
      process.stdout.write('REPOSITORY:TAG                           IMAGE ID\n')
      for (const i of json(await api('GET', '/images/json')))
        process.stdout.write(`${i.RepoTags[0].padEnd(40)} ${i.Id.slice(7, 19)}\n`)
      return
    }
    case 'image':
      if (rest[0] === 'inspect') return inspect('image', rest.slice(1))
      if (rest[0] === 'pull') {
        args.splice(0, 2, 'pull')
        return main()
      }
      break
    case 'inspect':
      return inspect(
        'container',
        rest.filter((a) => !a.startsWith('-')),
      )
    case 'pull': {
      const image = rest.find((a) => !a.startsWith('-'))
      if (!image) fail('"docker pull" requires exactly 1 argument.')
      const at = image.lastIndexOf(':') > image.lastIndexOf('/') ? image.lastIndexOf(':') : -1
      const [repo, tag] = at > 0 ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest']
      const r = await api('POST', `/images/create?fromImage=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`)
      for (const line of r.body.toString('utf8').split('\n').filter(Boolean)) {
        const event = JSON.parse(line)
        process.stdout.write(`${event.id ? `${event.id}: ` : ''}${event.status}\n`)
      }
      process.stdout.write(`docker.io/${repo}:${tag}\n`)
      return
    }
    case 'logs': {
      const r = await api('GET', `/containers/${encodeURIComponent(rest.at(-1))}/logs?stdout=1&stderr=1`)
      if (r.status !== 200) fail(errorOf(r))
      for (let o = 0; o + 8 <= r.body.length;) {
        const size = r.body.readUInt32BE(o + 4)
        ;(r.body[o] === 2 ? process.stderr : process.stdout).write(r.body.subarray(o + 8, o + 8 + size))
        o += 8 + size
      }
      return
    }
    case 'stop':
    case 'start':
    case 'kill':
    case 'restart':
      for (const name of rest.filter((a) => !a.startsWith('-'))) {
        const r = await api('POST', `/containers/${encodeURIComponent(name)}/${command}`)
        if (r.status >= 300 && r.status !== 304) fail(errorOf(r))
        process.stdout.write(`${name}\n`)
      }
      return
  }
  fail(`docker stand-in: '${args.join(' ')}' is not supported on scale hosts`)
}

await main()

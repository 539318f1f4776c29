// What an Ollama node answers is checked before use: a well-formed answer of the wrong shape is a
// clear error for that node, never a crash. The "node" here is an HTTP server on loopback answering
// the bodies under test (an Ollama stand-in, as the fleet's is).
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listTags, OllamaError, parsePullLine, parseTags, pull } from '../../../src/models/ollama.js'

let server: Server
let origin = ''
let tagsBody = ''
let pullBody = ''

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/api/tags') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(tagsBody)
    } else {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' })
      response.end(pullBody)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => {
  server.close()
})

const good = {
  name: 'llama3.2:latest',
  model: 'llama3.2:latest',
  modified_at: '2025-05-04T17:37:44.706015396-07:00',
  size: 2019393189,
  digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
  details: { format: 'gguf' },
}

describe('GET /api/tags', () => {
  it('reads the real shape, and an empty or null list', () => {
    expect(parseTags(JSON.stringify({ models: [good] }), 'nyx')).toEqual([
      { name: good.name, model: good.model, size: good.size, digest: good.digest, modified_at: good.modified_at },
    ])
    expect(parseTags('{"models":[]}', 'nyx')).toEqual([])
    expect(parseTags('{"models":null}', 'nyx')).toEqual([])
  })

  it.each([
    ['{"models":{"name":"x"}}', 'models is not a list'],
    ['{"models":[null]}', 'models[0] is not an object'],
    ['{"models":[{"size":1}]}', 'models[0].name is missing'],
    [
      '{"models":[{"name":"../../x\\u001b]0;t\\u0007"}]}',
      'models[0].name is not a model name: "../../x\\x1b]0;t\\x07"',
    ],
    ['{"models":[{"name":"a","size":"big"}]}', 'models[0].size is not a byte count'],
    ['{"models":[{"name":"a","size":-1}]}', 'models[0].size is not a byte count'],
    ['{"models":[{"name":"a","digest":"x"}]}', 'models[0].digest is not a sha256 digest'],
    ['[1,2]', 'not an object'],
    ['<html>', 'not JSON: "<html>"'],
  ])('%s is refused: %s', async (body, detail) => {
    tagsBody = body
    const error = await listTags({ host: 'nyx', origin }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OllamaError)
    expect((error as Error).message).toBe(`nyx: GET /api/tags is not what Ollama answers (${detail})`)
  })
})

describe('POST /api/pull lines', () => {
  it('reads progress, and an error of any type is an error', () => {
    expect(
      parsePullLine(
        '{"status":"pulling c5396e06af29","digest":"sha256:c5","total":397807936,"completed":52428800}',
        'nyx',
        'm',
      ),
    ).toEqual({ status: 'pulling c5396e06af29', digest: 'sha256:c5', total: 397807936, completed: 52428800 })
    expect(parsePullLine('{"error":{"code":5}}', 'nyx', 'm')).toEqual({ error: '{"code":5}' })
  })

  it.each([
    ['null', 'not an object'],
    ['{"status":5}', 'status is not text'],
    ['{"status":"x","total":"9"}', 'total is not a byte count'],
    ['{"status":"x","completed":1e400}', 'completed is not a byte count'],
  ])('%s fails that pull with a clear error', async (line, detail) => {
    pullBody = `{"status":"pulling manifest"}\n${line}\n{"status":"success"}\n`
    const error = await pull({ host: 'nyx', origin }, 'llama3.2', () => undefined).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OllamaError)
    expect((error as Error).message).toContain(
      `nyx: pull llama3.2: a progress line is not what Ollama sends (${detail})`,
    )
  })

  it('a stream that never ends its line is cut off', async () => {
    pullBody = `{"status":"${'x'.repeat(100 * 1024)}`
    await expect(pull({ host: 'nyx', origin }, 'llama3.2', () => undefined)).rejects.toThrow(
      'nyx: pull llama3.2: a progress line longer than 64 KiB',
    )
  })
})

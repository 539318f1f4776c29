// Documind over HTTP: POST /extract {file: URL, schema? | template?} -> the fields it extracted.
// Without a schema or template, Documind generates one (autoSchema).
import { createServer } from 'node:http'
import { extract } from 'documind'

const MAX_BODY = 1024 * 1024
const model = process.env.MODEL ?? 'llava:7b'
const parseModel = process.env.PARSE_MODEL ?? 'qwen2.5:3b'

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function readJson(req) {
  let size = 0
  const chunks = []
  for await (const chunk of req) {
    size += chunk.length
    if (size > MAX_BODY) throw new Error('request body over 1 MiB')
    chunks.push(chunk)
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

createServer(async (req, res) => {
  if (req.method === 'GET' && req.url === '/health') return send(res, 200, { status: 'ok', model, parseModel })
  if (req.method !== 'POST' || req.url !== '/extract') return send(res, 404, { error: 'GET /health or POST /extract' })
  try {
    const { file, schema, template } = await readJson(req)
    if (typeof file !== 'string') return send(res, 400, { error: 'file: a URL of the document' })
    const autoSchema = schema === undefined && template === undefined
    send(res, 200, await extract({ file, schema, template, model, parseModel, autoSchema }))
  } catch (error) {
    send(res, 422, { error: String(error.message ?? error) })
  }
}).listen(8000, '0.0.0.0')

// The stand-in "registry": turns catalog entries into manifests and blobs with deterministic
// content, so digests are stable across runs and hosts. Large layers (model, projector, adapter)
// are an AES-CTR keystream (seekable, fast) starting with the GGUF magic; text layers are text.
import { createCipheriv, createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { displayShortest, parseName } from './names.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const MEDIA = {
  model: 'application/vnd.ollama.image.model',
  projector: 'application/vnd.ollama.image.projector',
  adapter: 'application/vnd.ollama.image.adapter',
  template: 'application/vnd.ollama.image.template',
  system: 'application/vnd.ollama.image.system',
  license: 'application/vnd.ollama.image.license',
  params: 'application/vnd.ollama.image.params',
  messages: 'application/vnd.ollama.image.messages',
}
const SCALED = new Set(['model', 'projector', 'adapter'])
const CONFIG_MEDIA = 'application/vnd.docker.container.image.v1+json'
const MANIFEST_MEDIA = 'application/vnd.docker.distribution.manifest.v2+json'
const CHUNK = 4 * 1024 * 1024

const sha256 = (data) => createHash('sha256').update(data).digest('hex')

/** Reads the built-in catalog, then OLLAMA_STANDIN_CATALOG (file path or inline JSON) over it. */
export function loadCatalog(extra = process.env.OLLAMA_STANDIN_CATALOG) {
  const base = JSON.parse(readFileSync(join(HERE, 'catalog.json'), 'utf8')).models
  let more = {}
  if (extra && extra.trim() !== '') {
    const text = extra.trim().startsWith('{') ? extra : readFileSync(extra, 'utf8')
    const parsed = JSON.parse(text)
    more = parsed.models ?? parsed
  }
  const catalog = new Map()
  for (const [key, entry] of Object.entries({ ...base, ...more })) {
    const name = parseName(key)
    if (!name) throw new Error(`catalog: invalid model name ${key}`)
    catalog.set(displayShortest(name), { ...entry, key: displayShortest(name) })
  }
  return catalog
}

/** A blob whose bytes come from a function of (offset, length). */
class Blob {
  // read serves the bytes; hashRead (default: read) gives the bytes the digest is computed from,
  // so a catalog entry can serve a corrupted blob that fails verification.
  constructor(mediaType, size, read, hashRead = read) {
    this.mediaType = mediaType
    this.size = size
    this.read = read
    this.hashRead = hashRead
    this.digest = null
  }

  computeDigest() {
    if (this.digest) return this.digest
    const h = createHash('sha256')
    for (let off = 0; off < this.size; off += CHUNK) h.update(this.hashRead(off, Math.min(CHUNK, this.size - off)))
    this.digest = `sha256:${h.digest('hex')}`
    return this.digest
  }
}

function keystreamBlob(mediaType, size, seed, corrupt = false) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  const clean = (offset, length) => {
    const block = Math.floor(offset / 16)
    const skip = offset - block * 16
    const iv = Buffer.alloc(16)
    iv.writeBigUInt64BE(BigInt(block), 8)
    const cipher = createCipheriv('aes-128-ctr', key, iv)
    const out = cipher.update(Buffer.alloc(skip + length)).subarray(skip)
    // GGUF magic at the start, like a real model file.
    for (let i = 0; i < 4 && offset + i < 4 && i < length; i++) out[i] = 'GGUF'.charCodeAt(offset + i)
    return out
  }
  const corrupted = (offset, length) => {
    const out = clean(offset, length)
    if (offset + length === size && length > 0) out[length - 1] ^= 0xff
    return out
  }
  return new Blob(mediaType, size, corrupt ? corrupted : clean, clean)
}

function fillerText(seed, size) {
  const line = `${seed}: stand-in text for the ai-platform test fleet. `
  let s = ''
  while (s.length < size) s += line
  return Buffer.from(s.slice(0, size))
}

function bufferBlob(mediaType, buf) {
  return new Blob(mediaType, buf.length, (offset, length) => buf.subarray(offset, offset + length))
}

export class Registry {
  constructor({ catalog = loadCatalog(), scale = Number(process.env.OLLAMA_STANDIN_SCALE ?? 0.001) } = {}) {
    this.catalog = catalog
    this.scale = scale
    this.models = new Map()
    this.blobs = new Map() // digest -> Blob, for blobs served so far
  }

  /** The model behind a parsed name, or null when the registry does not have it ("file does not exist"). */
  resolve(name) {
    const key = displayShortest(name)
    if (this.models.has(key)) return this.models.get(key)
    const entry = this.catalog.get(key)
    if (!entry) return null
    const model = this.#build(entry)
    this.models.set(key, model)
    return model
  }

  blob(digest) {
    return this.blobs.get(digest) ?? null
  }

  #build(entry) {
    const family = entry.family ?? 'llama'
    const layers = entry.layers.map((l, i) => {
      const mediaType = MEDIA[l.type] ?? l.mediaType
      if (!mediaType) throw new Error(`catalog ${entry.key}: unknown layer type ${l.type}`)
      if (SCALED.has(l.type)) {
        const size = Math.max(64, Math.round(l.size * this.scale))
        return keystreamBlob(mediaType, size, `${entry.key}/${i}/${l.size}`, entry.corruptLayer === i)
      }
      const buf = l.text != null ? Buffer.from(l.text) : fillerText(`${l.type}/${family}/${l.size}`, l.size)
      return bufferBlob(mediaType, buf)
    })
    for (const b of layers) b.computeDigest()
    const config = {
      model_format: 'gguf',
      model_family: family,
      model_families: entry.families ?? [family],
      model_type: entry.parameterSize,
      file_type: entry.quantization,
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((b) => b.digest) },
    }
    const configBlob = bufferBlob(CONFIG_MEDIA, Buffer.from(JSON.stringify(config)))
    configBlob.computeDigest()
    const manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA,
      config: { mediaType: CONFIG_MEDIA, digest: configBlob.digest, size: configBlob.size },
      layers: layers.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size })),
    }
    const manifestBytes = Buffer.from(JSON.stringify(manifest))
    for (const b of [...layers, configBlob]) this.blobs.set(b.digest, b)
    return { entry, manifest, manifestBytes, manifestDigest: sha256(manifestBytes), layers, config: configBlob }
  }
}

export const mediaTypes = MEDIA

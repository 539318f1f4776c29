// The model store under OLLAMA_MODELS: blobs/sha256-<hex> and manifests/<host>/<ns>/<model>/<tag>,
// the same layout and pruning rules as Ollama's server (server/manifest.go, images.go, layer.go).
import { createHash } from 'node:crypto'
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { manifestRelPath } from './names.mjs'

const DIGEST_FILE = /^sha256-[0-9a-f]{64}$/

export class Store {
  constructor(root) {
    this.root = root
    this.blobsDir = join(root, 'blobs')
    this.manifestsDir = join(root, 'manifests')
    mkdirSync(this.blobsDir, { recursive: true, mode: 0o755 })
    mkdirSync(this.manifestsDir, { recursive: true, mode: 0o755 })
  }

  blobPath(digest) {
    return join(this.blobsDir, digest.replace(':', '-'))
  }

  /** Size of a complete blob, or null. */
  blobSize(digest) {
    try {
      return statSync(this.blobPath(digest)).size
    } catch {
      return null
    }
  }

  manifestPath(name) {
    return join(this.root, manifestRelPath(name))
  }

  /** {name, manifest, bytes, digest, mtimeNs} or null when the model is not present. */
  readManifest(name) {
    const path = this.manifestPath(name)
    let bytes
    try {
      bytes = readFileSync(path)
    } catch {
      return null
    }
    const st = statSync(path, { bigint: true })
    return {
      name,
      path,
      bytes,
      manifest: JSON.parse(bytes),
      digest: createHash('sha256').update(bytes).digest('hex'),
      mtimeNs: st.mtimeNs,
    }
  }

  /** Every manifest on disk (host/namespace/model/tag), skipping unreadable ones. */
  listManifests() {
    const out = []
    const walk = (dir, depth) => {
      let entries = []
      try {
        entries = readdirSync(dir, { withFileTypes: true })
      } catch {
        return
      }
      for (const e of entries) {
        const p = join(dir, e.name)
        if (depth < 3 && e.isDirectory()) walk(p, depth + 1)
        else if (depth === 3 && e.isFile()) {
          const [host, namespace, model, tag] = relative(this.manifestsDir, p).split(sep)
          try {
            const m = this.readManifest({ host, namespace, model, tag })
            if (m) out.push(m)
          } catch {
            // a corrupt manifest is skipped, as Ollama logs and skips it
          }
        }
      }
    }
    walk(this.manifestsDir, 0)
    return out
  }

  writeManifest(name, bytes) {
    const path = this.manifestPath(name)
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
    writeFileSync(`${path}.tmp`, bytes, { mode: 0o644 })
    renameSync(`${path}.tmp`, path)
  }

  /** Removes a manifest and the directories it leaves empty. */
  removeManifest(name) {
    const path = this.manifestPath(name)
    rmSync(path, { force: true })
    let dir = dirname(path)
    while (dir.startsWith(this.manifestsDir + sep)) {
      try {
        rmdirSync(dir)
      } catch {
        break
      }
      dir = dirname(dir)
    }
  }

  referencedDigests() {
    const used = new Set()
    for (const m of this.listManifests()) {
      for (const l of m.manifest.layers ?? []) used.add(l.digest)
      if (m.manifest.config?.digest) used.add(m.manifest.config.digest)
    }
    return used
  }

  /** deleteUnusedLayers: removes the given digests unless another manifest still uses them. */
  deleteUnused(digests) {
    const used = this.referencedDigests()
    for (const d of digests) if (!used.has(d)) rmSync(this.blobPath(d), { force: true })
  }

  /**
   * PruneLayers at start-up: files in blobs/ that are not digests (partial downloads) and blobs no
   * manifest references are removed, except files younger than the grace period (Ollama >= 0.21).
   */
  prune(graceMs) {
    const now = Date.now()
    const used = this.referencedDigests()
    for (const name of readdirSync(this.blobsDir)) {
      const p = join(this.blobsDir, name)
      let st
      try {
        st = statSync(p)
      } catch {
        continue
      }
      if (now - st.mtimeMs < graceMs) continue
      if (!DIGEST_FILE.test(name) || !used.has(name.replace('-', ':'))) rmSync(p, { force: true })
    }
  }

  async sha256File(digest) {
    const h = createHash('sha256')
    for await (const chunk of createReadStream(this.blobPath(digest))) h.update(chunk)
    return `sha256:${h.digest('hex')}`
  }

  hasPartial(digest) {
    return existsSync(`${this.blobPath(digest)}-partial`)
  }
}

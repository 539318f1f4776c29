// Blob downloads as Ollama's server/download.go does them, with the "network" simulated:
// - one download per digest, process-wide; concurrent pulls share it and each gets its own
//   60 ms progress ticks (Wait);
// - the download is reference-counted and cancelled when its last waiter goes away; the data stays
//   in <blob>-partial, its progress in the JSON part file <blob>-partial-0, and the next pull of the
//   digest resumes from there (Prepare);
// - bytes arrive after a request latency, at a configurable rate shared by all running downloads.
import {
  closeSync,
  constants,
  ftruncateSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'

const TICK_MS = 20
const PROGRESS_MS = 60

export class Canceled extends Error {
  constructor() {
    super('context canceled')
  }
}

/** Parses "4000000", "4MB", "512KiB", "2.5 MiB/s" into bytes per second. */
export function parseRate(text, fallback) {
  if (text == null || String(text).trim() === '') return fallback
  const m = String(text)
    .trim()
    .match(/^([\d.]+)\s*([kmg]?i?b?)?(\/s)?$/i)
  if (!m) throw new Error(`invalid rate ${text}`)
  const unit = (m[2] ?? '').toLowerCase().replace(/b$/, '')
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 }[unit]
  if (mult == null) throw new Error(`invalid rate ${text}`)
  return Math.max(1, Math.round(Number(m[1]) * mult))
}

class BlobDownload {
  constructor(manager, blob, path) {
    this.manager = manager
    this.blob = blob
    this.digest = blob.digest
    this.path = path
    this.total = 0
    this.completed = 0
    this.references = 0
    this.finished = false
    this.err = null
    this.flowingAt = Date.now() + manager.latencyMs
    this.done = new Promise((resolve) => (this.resolveDone = resolve))
    this.fd = null
  }

  get partPath() {
    return `${this.path}-partial-0`
  }

  /** Prepare: resume from part files when present, else create the single part (blobs < 100 MB). */
  prepare() {
    const dir = dirname(this.path)
    const prefix = `${basename(this.path)}-partial-`
    const parts = readdirSync(dir).filter((f) => f.startsWith(prefix))
    for (const f of parts) {
      const part = JSON.parse(readFileSync(join(dir, f), 'utf8'))
      this.total += part.Size
      this.completed += part.Completed
    }
    if (parts.length === 0) {
      this.total = this.blob.size
      this.#writePart()
    }
    this.fd = openSync(`${this.path}-partial`, constants.O_CREAT | constants.O_RDWR, 0o644)
    ftruncateSync(this.fd, this.total)
  }

  #writePart() {
    writeFileSync(
      this.partPath,
      JSON.stringify({ N: 0, Offset: 0, Size: this.total, Completed: this.completed }) + '\n',
      { mode: 0o644 },
    )
  }

  /** Writes up to `budget` bytes; returns the bytes written. */
  pump(budget) {
    const n = Math.min(budget, this.total - this.completed)
    if (n > 0) {
      const buf = this.blob.read(this.completed, n)
      writeSync(this.fd, buf, 0, n, this.completed)
      this.completed += n
    }
    if (this.completed >= this.total) this.#finish(null)
    return n
  }

  cancel() {
    if (!this.finished) this.#finish(new Canceled())
  }

  #finish(err) {
    this.finished = true
    this.err = err
    try {
      if (err) {
        this.#writePart() // resumable: keep -partial and record how far we got
        closeSync(this.fd)
      } else {
        closeSync(this.fd)
        rmSync(this.partPath, { force: true })
        renameSync(`${this.path}-partial`, this.path)
      }
    } catch (e) {
      this.err = this.err ?? e
    }
    this.manager.active.delete(this.digest)
    this.resolveDone()
  }

  acquire() {
    this.references++
  }

  release() {
    if (--this.references === 0) this.cancel()
  }

  /** Wait: a progress line every 60 ms until done; returns without a final line, like Ollama. */
  async wait(signal, onProgress) {
    this.acquire()
    try {
      await new Promise((resolve, reject) => {
        const short = this.digest.slice(7, 19)
        const timer = setInterval(() => {
          onProgress({ status: `pulling ${short}`, digest: this.digest, total: this.total, completed: this.completed })
        }, PROGRESS_MS)
        const settle = (err) => {
          clearInterval(timer)
          signal?.removeEventListener('abort', onAbort)
          if (err) reject(err)
          else resolve()
        }
        const onAbort = () => settle(new Canceled())
        if (signal?.aborted) return onAbort()
        signal?.addEventListener('abort', onAbort)
        this.done.then(() => settle(this.err))
      })
    } finally {
      this.release()
    }
  }
}

export class DownloadManager {
  constructor({ rate = 4_000_000, latencyMs = 120 } = {}) {
    this.rate = rate
    this.latencyMs = latencyMs
    this.active = new Map()
    this.timer = null
    this.last = 0
  }

  /** The running download of this blob, or a new one (resuming from partial files). */
  get(blob, path) {
    let d = this.active.get(blob.digest)
    if (!d) {
      d = new BlobDownload(this, blob, path)
      d.prepare()
      this.active.set(blob.digest, d)
      this.#schedule()
    }
    return d
  }

  cancelAll() {
    for (const d of [...this.active.values()]) d.cancel()
  }

  #schedule() {
    if (this.timer) return
    this.last = Date.now()
    this.timer = setInterval(() => this.#tick(), TICK_MS)
  }

  #tick() {
    const now = Date.now()
    const dt = now - this.last
    this.last = now
    const flowing = [...this.active.values()].filter((d) => d.flowingAt <= now && !d.finished)
    if (flowing.length > 0) {
      const share = Math.max(1, Math.floor((this.rate * dt) / 1000 / flowing.length))
      for (const d of flowing) d.pump(share)
    }
    if (this.active.size === 0) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}

// Output formats copied from Ollama's Go code: JSON as Go's encoding/json writes it,
// time.Time as RFC 3339 with nanoseconds, format.HumanBytes and format.HumanTime.

/** JSON.stringify plus Go's HTML-safe escaping of <, > and & (json.Marshal does that). */
export function goJson(value) {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  )
}

/** Go's time.Time JSON form (RFC3339Nano, trailing zeros trimmed) in the process's local zone. */
export function rfc3339Nano(epochNs) {
  const ns = BigInt(epochNs)
  const ms = Number(ns / 1_000_000n)
  const d = new Date(ms)
  const offsetMin = -d.getTimezoneOffset()
  const local = new Date(ms + offsetMin * 60_000)
  const p = (n, w = 2) => String(n).padStart(w, '0')
  const frac = String(ns % 1_000_000_000n)
    .padStart(9, '0')
    .replace(/0+$/, '')
  const zone =
    offsetMin === 0
      ? 'Z'
      : `${offsetMin > 0 ? '+' : '-'}${p(Math.floor(Math.abs(offsetMin) / 60))}:${p(Math.abs(offsetMin) % 60)}`
  return (
    `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}` +
    `T${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}` +
    (frac ? `.${frac}` : '') +
    zone
  )
}

/** format.HumanBytes: decimal units, "%d" from 10 up, else one decimal when not whole. */
export function humanBytes(b) {
  const units = [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'KB'],
  ]
  for (const [size, unit] of units) {
    if (b >= size) {
      const v = b / size
      if (v >= 10) return `${Math.trunc(v)} ${unit}`
      if (v !== Math.trunc(v)) return `${v.toFixed(1)} ${unit}`
      return `${v} ${unit}`
    }
  }
  return `${b} B`
}

function humanDuration(ms) {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.trunc(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.round(ms / 3_600_000)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`
}

/** format.HumanTime(t, "Never") */
export function humanTime(date, now = new Date()) {
  if (!date || Number.isNaN(date.getTime()) || date.getTime() <= 0) return 'Never'
  const delta = now.getTime() - date.getTime()
  if (delta < 0) return `${humanDuration(-delta)} from now`
  return `${humanDuration(delta)} ago`
}

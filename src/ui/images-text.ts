// Text output of `images build`: one line per image (its ref, what became of it, the services that run
// it), then the failures with their hints.
import type { ImagesBuildReport } from '../images/service.js'

export function formatImagesBuild(report: ImagesBuildReport): string[] {
  const where = report.builder.kind === 'host' ? `on ${report.builder.host}` : 'with the local Docker CLI'
  const head = report.dryRun
    ? `Would build ${report.images.length} image${report.images.length === 1 ? '' : 's'} ${where} and push to ${report.registry}:`
    : `Images ${where}, pushed to ${report.registry}:`
  const status = (i: ImagesBuildReport['images'][number]) =>
    i.status === 'planned' ? 'would build' : i.status === 'skipped' ? 'in registry' : i.status
  const lines = [head]
  for (const image of report.images) {
    const args = Object.entries(image.args)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    lines.push(
      `  ${status(image).padEnd(12)} ${image.ref}  (${image.services.join(', ')}; ${image.context}/${image.dockerfile}${args ? `; ${args}` : ''})`,
    )
  }
  for (const image of report.images.filter((i) => i.error !== undefined)) {
    lines.push('', `${image.ref}: ${image.error}`)
    if (image.hint) lines.push(`  hint: ${image.hint}`)
  }
  if (report.login && !report.dryRun)
    lines.push('', `Logged in as ${report.login.username} (secret ${report.login.secret}).`)
  return lines
}

import { composeVariables } from '../compose.js'
import { imageProblemMessage, imageReferenceProblem } from '../image-ref.js'
import type { ConfigIssue } from '../issues.js'
import type { Service } from '../model.js'
import { configIssueAt, describeValue, type PathSegment, type SourceFile } from '../source.js'

/**
 * Image references Docker would refuse at the pull, in the service and in each override. Values with
 * `{{...}}` are checked once rendered (src/render/render.ts); those with Compose variables take their
 * value on the host, from .env, and are left to Compose.
 */
export function imageRules(service: Service, source: SourceFile, path: PathSegment[]): ConfigIssue[] {
  const sites: { image: unknown; at: PathSegment[] }[] = [{ image: service.compose.image, at: [...path, 'image'] }]
  service.overrides.forEach((override, index) => {
    if ('image' in override.set)
      sites.push({ image: override.set.image, at: [...path, 'x-ai-platform', 'overrides', index, 'set', 'image'] })
  })
  const issues: ConfigIssue[] = []
  for (const { image, at } of sites) {
    if (typeof image !== 'string' || image.includes('{{') || composeVariables(image).length > 0) continue
    const problem = imageReferenceProblem(image)
    if (problem)
      issues.push(
        configIssueAt('image-reference', source, at, imageProblemMessage(problem), {
          allowed: problem.allowed,
          got: describeValue(image),
        }),
      )
  }
  return issues
}

// Templates: each compiles, and each one a stack names is there.
import { withCode, type ConfigIssue } from '../issues.js'
import type { Stack } from '../model.js'
import type { Origin } from '../origins.js'
import { configIssueAt } from '../source.js'
import { compileTemplateIssues } from '../../util/template.js'

/** `templates`: path under templates/ -> text. */
export function templateSyntaxRules(templates: Readonly<Record<string, string>>): ConfigIssue[] {
  return Object.entries(templates).flatMap(([path, text]) =>
    compileTemplateIssues(`templates/${path}`, text).map((issue) => withCode(issue, 'template-syntax')),
  )
}

export function templateFileRules(
  stack: Stack,
  templates: Readonly<Record<string, string>>,
  { source }: Origin,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  stack.files.forEach((file, index) => {
    if (templates[file.template] === undefined) {
      issues.push(
        configIssueAt(
          'unknown-template',
          source,
          ['x-ai-platform', 'files', index, 'template'],
          'no such template in templates/',
          { got: JSON.stringify(file.template) },
        ),
      )
    }
  })
  return issues
}

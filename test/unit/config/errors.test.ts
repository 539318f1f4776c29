import { afterAll, describe, expect, it } from 'vitest'
import { validateProject } from '../../../src/validate/validate.js'
import { formatIssue } from '../../../src/errors.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'
import { ERROR_CASES } from './error-cases.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

describe('every validation message, pinned', () => {
  it('the unedited fixture is valid', async () => {
    const report = await validateProject(MINIMAL)
    expect(report.issues.map(formatIssue)).toEqual([])
    expect(report.valid).toBe(true)
  })

  it.each(ERROR_CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const dir = await projectFrom(MINIMAL, testCase.edits)
    dirs.push(dir)
    const report = await validateProject(dir)
    expect(report.issues.map(formatIssue)).toEqual(testCase.expected)
    expect(report.valid).toBe(!testCase.expected.some((line) => !line.includes(' warning: ')))
  })
})

import { afterAll, describe, expect, it } from 'vitest'
import { ISSUE_CODES, type IssueCode } from '../../../src/config/issues.js'
import { validateProject } from '../../../src/validate/validate.js'
import { formatIssue } from '../../../src/errors.js'
import { MINIMAL, projectFrom, removeProject } from '../../helpers/project.js'
import { ERROR_CASES } from './error-cases.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map(removeProject))
})

// Codes pinned by tests of their own, which need more than an edit of the fixture.
const PINNED_ELSEWHERE: Partial<Record<IssueCode, string>> = {
  'file-too-large': 'broken-input.test.ts',
  'file-unreadable': 'all-files.test.ts',
  'no-inventory': 'all-files.test.ts',
  secrets: 'validate-secrets.test.ts',
}

describe('every validation message, pinned', () => {
  it('every issue code is pinned by a case', () => {
    const pinned = new Set<string>([...ERROR_CASES.flatMap((c) => c.codes), ...Object.keys(PINNED_ELSEWHERE)])
    expect(Object.keys(ISSUE_CODES).filter((code) => !pinned.has(code))).toEqual([])
  })

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
    expect(report.issues.map((i) => i.code)).toEqual(testCase.codes)
    expect(report.valid).toBe(!testCase.expected.some((line) => !line.includes(' warning: ')))
  })
})

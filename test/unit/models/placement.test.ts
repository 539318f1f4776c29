import { describe, expect, it } from 'vitest'
import { ollamaNodes, planPulls, undeclared } from '../../../src/models/placement.js'
import { PullProgress } from '../../../src/models/ollama.js'
import { fleetContext } from '../../../src/render/context.js'
import { UserError } from '../../../src/errors.js'
import { loadOk } from '../../helpers/load.js'
import { MINIMAL } from '../../helpers/project.js'

describe('model placement', async () => {
  const { project } = await loadOk()
  const nodes = ollamaNodes(project)

  it('finds the four Ollama nodes, their store and the one writer', () => {
    expect(nodes.map((n) => [n.host, n.store, n.writer, n.models.length])).toEqual([
      ['orpheus', 'models', false, 6],
      ['kratos', 'models', false, 6],
      ['nyx', 'models', false, 4], // the 13B models stay off its shared 12 GB card
      ['hades', 'models', true, 5],
    ])
  })

  it('pulls into the shared store once, on its writer, for every node that reads it', () => {
    const jobs = planPulls(nodes, {})
    expect(new Set(jobs.map((j) => j.host))).toEqual(new Set(['hades']))
    expect(jobs).toHaveLength(11)
    expect(jobs.find((j) => j.model === 'llama3.2')!.servedBy).toEqual(['orpheus', 'kratos', 'nyx'])
    expect(jobs.find((j) => j.model === 'llama3.1:70b')!.servedBy).toEqual(['hades'])
    expect(planPulls(nodes, { hosts: ['kratos'], models: ['llava:13b'] })).toEqual([
      { host: 'hades', model: 'llava:13b', servedBy: ['kratos'] },
    ])
  })

  it('the pulls and the LiteLLM routes follow the same placement', () => {
    const routes = fleetContext(project).litellm.routes
    for (const node of nodes)
      expect(
        routes
          .filter((r) => r.host === node.host)
          .map((r) => r.model_name)
          .sort(),
      ).toEqual([...node.models].sort())
  })

  it('a reader without a writer, and a model nobody serves, are user errors', () => {
    const readers = nodes.map((n) => ({ ...n, writer: false }))
    expect(() => planPulls(readers, {})).toThrow(UserError)
    expect(() => planPulls(readers, {})).toThrow(
      'orpheus reads models from the shared store "models", which no node mounts read-write',
    )
    expect(() => planPulls(nodes, { models: ['gpt-5'] })).toThrow('no selected node serves gpt-5')
  })

  it('nodes without a shared store pull for themselves', async () => {
    const mini = await loadOk(MINIMAL)
    expect(planPulls(ollamaNodes(mini.project), {})).toEqual([
      { host: 'alpha', model: 'small', servedBy: ['alpha'] },
      { host: 'beta', model: 'big:70b', servedBy: ['beta'] },
    ])
  })

  it('undeclared: present on a store but declared by none of the nodes sharing it', () => {
    expect(undeclared(nodes, 'hades', ['llama3.2:latest', 'llama3.1:70b', 'tinyllama:latest'])).toEqual([
      'tinyllama:latest',
    ])
  })

  it('pull progress sums layers and never goes backwards', () => {
    const p = new PullProgress()
    p.update({ status: 'pulling manifest' })
    p.update({ status: 'pulling aaa', digest: 'sha256:a', total: 100 })
    p.update({ status: 'pulling aaa', digest: 'sha256:a', total: 100, completed: 60 })
    p.update({ status: 'pulling bbb', digest: 'sha256:b', total: 50, completed: 50 })
    p.update({ status: 'pulling aaa', digest: 'sha256:a', total: 100, completed: 40 })
    expect(p.totals).toEqual({ completed: 110, total: 150 })
  })
})

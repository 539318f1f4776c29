import { describe, expect, it } from 'vitest'
import {
  badDollars,
  bindSource,
  composeVariables,
  mergeService,
  portsOverlap,
  publishedPorts,
} from '../../../src/config/compose.js'

describe('Compose syntax readers', () => {
  it.each([
    ['5432:5432', [{ hostIp: '0.0.0.0', from: 5432, to: 5432, protocol: 'tcp', index: 0 }]],
    ['127.0.0.1:8001:8000', [{ hostIp: '127.0.0.1', from: 8001, to: 8001, protocol: 'tcp', index: 0 }]],
    ['8600:8600/udp', [{ hostIp: '0.0.0.0', from: 8600, to: 8600, protocol: 'udp', index: 0 }]],
    ['3000-3005:3000-3005', [{ hostIp: '0.0.0.0', from: 3000, to: 3005, protocol: 'tcp', index: 0 }]],
    ['[::1]:80:80', [{ hostIp: '::1', from: 80, to: 80, protocol: 'tcp', index: 0 }]],
    ['9000', []],
  ])('publishedPorts(%j)', (port, expected) => {
    expect(publishedPorts([port])).toEqual(expected)
  })

  it('reads the long port syntax and ignores unpublished ports', () => {
    expect(publishedPorts([{ target: 80, published: 8080, protocol: 'udp' }, { target: 81 }, 9000])).toEqual([
      { hostIp: '0.0.0.0', from: 8080, to: 8080, protocol: 'udp', index: 0 },
    ])
  })

  it('ports clash on overlapping ranges and wildcard addresses, not across protocols or distinct addresses', () => {
    const [a] = publishedPorts(['3000-3005:3000-3005'])
    const [b] = publishedPorts(['127.0.0.1:3003:80'])
    const [c] = publishedPorts(['3003:80/udp'])
    const [d] = publishedPorts(['127.0.0.2:3003:80'])
    expect(portsOverlap(a!, b!)).toBe(true)
    expect(portsOverlap(a!, c!)).toBe(false)
    expect(portsOverlap(b!, d!)).toBe(false)
  })

  it('finds the variables Compose interpolates', () => {
    expect(composeVariables('postgres://u:${PW}@h/${DB:-app} $$NOT $HOME ${OPT-x} ${REQ:?set it}')).toEqual([
      { name: 'PW', hasDefault: false },
      { name: 'DB', hasDefault: true },
      { name: 'HOME', hasDefault: false },
      { name: 'OPT', hasDefault: true },
      { name: 'REQ', hasDefault: false },
    ])
  })

  it('finds dollars Compose cannot interpolate', () => {
    for (const ok of ['plain', '${A}', '$A', '$$', '$$(id)', '${A:-x y}', '${A?must}', 'a$$b$C', 'x: $${HOME}'])
      expect([ok, badDollars(ok)]).toEqual([ok, false])
    for (const bad of ['$(id)', 'cost $5', 'end$', '${', '${A', '${1X}', '${ A}', '`$(id)`'])
      expect([bad, badDollars(bad)]).toEqual([bad, true])
  })

  it('merges overrides: mappings deep, lists replaced, base untouched', () => {
    const base = { image: 'a', environment: { A: '1', B: '2' }, ports: ['1:1'] }
    const merged = mergeService(base, { image: 'b', environment: { B: '3' }, ports: ['2:2'] })
    expect(merged).toEqual({ image: 'b', environment: { A: '1', B: '3' }, ports: ['2:2'] })
    expect(base).toEqual({ image: 'a', environment: { A: '1', B: '2' }, ports: ['1:1'] })
  })

  it('tells bind mounts from named volumes', () => {
    expect(bindSource('./data:/data')).toBe('./data')
    expect(bindSource('/srv:/srv:ro')).toBe('/srv')
    expect(bindSource('named:/data')).toBeNull()
    expect(bindSource({ type: 'bind', source: '/x', target: '/y' })).toBe('/x')
  })
})

// Part of `npm run lint`: the import graph of the TypeScript sources, read with the TypeScript parser.
// Fails on
// - an import circle among src/ and commands/ modules (static value imports; `import type` and
//   `import()` load nothing at start-up, so they cannot make one);
// - a dead export: a value (function, class, constant) exported from src/ that no other file imports (commands/, test/, bench/
//   and tools/ count as users; a module loaded with `import()` or `import * as` uses all it exports, and
//   so does oclif for the hooks package.json names).
// Who may import whom, layer by layer, is ESLint's no-restricted-imports (eslint.config.js).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const SCANNED = ['src', 'commands', 'test', 'bench', 'tools']
const SKIP = new Set(['node_modules', 'dist', '.state', '.work', 'fixtures', 'fleet'])

function walk(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return []
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return walk(path)
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

/** './x.js' from FILE: the .ts module it names, or null when it is not one of ours. */
function resolveModule(from, specifier) {
  if (!specifier.startsWith('.')) return null
  const base = resolve(dirname(from), specifier)
  for (const candidate of [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return null
}

const hasExport = (node) => (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export) !== 0

/** What one file exports, and what it takes from which module. */
function readModule(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const exports = new Set()
  /** Exported interfaces and type aliases: part of the signatures they describe, not checked for use. */
  const types = new Set()
  /** module -> { names: Set, all: boolean, value: boolean } */
  const uses = new Map()
  const use = (specifier, names, { all = false, value = false } = {}) => {
    const target = resolveModule(file, specifier)
    if (!target) return
    const entry = uses.get(target) ?? { names: new Set(), all: false, value: false }
    for (const n of names) entry.names.add(n)
    entry.all ||= all
    entry.value ||= value
    uses.set(target, entry)
  }
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause
      const specifier = statement.moduleSpecifier.text
      if (!clause) {
        use(specifier, [], { value: true }) // import for its side effects
        continue
      }
      const typeOnly = clause.isTypeOnly
      const names = []
      let valueUse = !typeOnly && clause.name !== undefined
      if (clause.name) names.push('default')
      const bindings = clause.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) {
        use(specifier, [], { all: true, value: !typeOnly })
        continue
      }
      for (const element of bindings?.elements ?? []) {
        names.push((element.propertyName ?? element.name).text)
        if (!typeOnly && !element.isTypeOnly) valueUse = true
      }
      use(specifier, names, { value: valueUse })
    } else if (ts.isExportDeclaration(statement)) {
      const specifier =
        statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
          ? statement.moduleSpecifier.text
          : null
      const clause = statement.exportClause
      if (specifier && !clause) use(specifier, [], { all: true, value: !statement.isTypeOnly })
      for (const element of clause && ts.isNamedExports(clause) ? clause.elements : []) {
        exports.add(element.name.text)
        if (specifier)
          use(specifier, [(element.propertyName ?? element.name).text], {
            value: !statement.isTypeOnly && !element.isTypeOnly,
          })
      }
    } else if (ts.isExportAssignment(statement)) {
      exports.add('default')
    } else if (hasExport(statement)) {
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) exports.add(d.name.text)
      } else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
        types.add(statement.name.text)
      } else if (statement.name) {
        const isDefault = (ts.getCombinedModifierFlags(statement) & ts.ModifierFlags.Default) !== 0
        exports.add(isDefault ? 'default' : statement.name.text)
      }
    }
  }
  // import('./x.js') and typeof import('./x.js'): the whole module, loaded late or for its types
  const visit = (node) => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      use(node.arguments[0].text, [], { all: true })
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal))
      use(node.argument.literal.text, [], { all: true })
    ts.forEachChild(node, visit)
  }
  visit(source)
  return { exports, types, uses }
}

const files = SCANNED.flatMap((dir) => walk(join(root, dir)))
const modules = new Map(files.map((file) => [file, readModule(file)]))
const name = (file) => relative(root, file)
const problems = []

// Import circles: Tarjan's strongly connected components over static value imports of src/ and commands/.
const inGraph = (file) => /^(src|commands)\//.test(name(file))
const edges = new Map(
  [...modules]
    .filter(([file]) => inGraph(file))
    .map(([file, m]) => [
      file,
      [...m.uses].filter(([target, u]) => u.value && inGraph(target)).map(([target]) => target),
    ]),
)
let index = 0
const stack = []
const state = new Map()
function connect(file) {
  state.set(file, { index, low: index, onStack: true })
  index++
  stack.push(file)
  for (const next of edges.get(file) ?? []) {
    if (!state.has(next)) {
      connect(next)
      state.get(file).low = Math.min(state.get(file).low, state.get(next).low)
    } else if (state.get(next).onStack) state.get(file).low = Math.min(state.get(file).low, state.get(next).index)
  }
  if (state.get(file).low === state.get(file).index) {
    const component = []
    let member
    do {
      member = stack.pop()
      state.get(member).onStack = false
      component.push(member)
    } while (member !== file)
    if (component.length > 1 || (edges.get(file) ?? []).includes(file))
      problems.push(`import circle: ${component.map(name).sort().join(' -> ')}`)
  }
}
for (const file of edges.keys()) if (!state.has(file)) connect(file)

// Dead exports of src/: exported, never imported by another file.
const { oclif } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const hooks = new Set(
  Object.values(oclif?.hooks ?? {})
    .flat()
    .map((path) => join(root, path.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'))),
)
for (const [file, m] of modules) {
  if (!name(file).startsWith('src/') || hooks.has(file)) continue
  const used = new Set()
  let all = false
  for (const [other, om] of modules) {
    if (other === file) continue
    const u = om.uses.get(file)
    if (!u) continue
    if (u.all) all = true
    for (const n of u.names) used.add(n)
  }
  if (all) continue
  for (const exported of m.exports)
    if (!used.has(exported))
      problems.push(`dead export: ${name(file)} exports ${exported}, which no other file imports`)
}

if (problems.length > 0) {
  for (const p of problems.sort()) console.error(p)
  console.error(`check-imports: ${problems.length} problem(s) in ${files.length} files`)
  process.exit(1)
}
console.log(`check-imports: ${files.length} files, no import circle, no dead export`)

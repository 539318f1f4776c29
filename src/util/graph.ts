// Pure graph helpers: cycles (named, for error messages) and waves (Kahn layering).

/** One readable cycle per strongly connected component that has one, each as [a, b, c] meaning a -> b -> c -> a. */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let counter = 0
  const nodes = [...edges.keys()].sort()

  // Iterative Tarjan: inventories are small, but a recursive walk over a fuzzed graph must not overflow.
  for (const start of nodes) {
    if (index.has(start)) continue
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }]
    index.set(start, counter)
    low.set(start, counter++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const targets = [...(edges.get(frame.node) ?? [])].sort()
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!
        if (!edges.has(target)) continue
        if (!index.has(target)) {
          index.set(target, counter)
          low.set(target, counter++)
          stack.push(target)
          onStack.add(target)
          work.push({ node: target, next: 0 })
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!))
        }
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = []
        let member: string
        do {
          member = stack.pop()!
          onStack.delete(member)
          component.push(member)
        } while (member !== frame.node)
        const selfLoop = component.length === 1 && (edges.get(component[0]!) ?? []).includes(component[0]!)
        if (component.length > 1 || selfLoop) components.push(component)
      }
    }
  }
  return components.map((component) => cycleWithin(component, edges)).sort((a, b) => a[0]!.localeCompare(b[0]!))
}

function cycleWithin(component: string[], edges: ReadonlyMap<string, readonly string[]>): string[] {
  const members = new Set(component)
  const start = [...component].sort()[0]!
  // Breadth-first from start back to start inside the component gives the shortest named cycle.
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const target of [...(edges.get(node) ?? [])].sort()) {
      if (!members.has(target)) continue
      if (target === start) {
        const path = [node]
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!)
        return path
      }
      if (!previous.has(target)) {
        previous.set(target, node)
        queue.push(target)
      }
    }
  }
  return [start]
}

/** Layers of a DAG: wave 0 holds nodes with no dependencies, wave n nodes whose dependencies are all in earlier waves. */
export function layer(dependsOn: ReadonlyMap<string, readonly string[]>, order: readonly string[]): string[][] {
  const waveOf = new Map<string, number>()
  const remaining = new Set(order)
  const waves: string[][] = []
  while (remaining.size > 0) {
    const wave = order.filter(
      (node) => remaining.has(node) && (dependsOn.get(node) ?? []).every((d) => !remaining.has(d) || d === node),
    )
    if (wave.length === 0) throw new Error(`layer(): cycle among ${[...remaining].join(', ')}`)
    for (const node of wave) {
      remaining.delete(node)
      waveOf.set(node, waves.length)
    }
    waves.push(wave)
  }
  return waves
}

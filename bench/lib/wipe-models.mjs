// hyperfine --prepare for the pull benchmark: deletes every model from the given Ollama nodes.
const addresses = process.argv.slice(2)
await Promise.all(
  addresses.map(async (address) => {
    const { models } = await (await fetch(`http://${address}:11434/api/tags`)).json()
    for (const { name } of models)
      await fetch(`http://${address}:11434/api/delete`, { method: 'DELETE', body: JSON.stringify({ model: name }) })
  }),
)

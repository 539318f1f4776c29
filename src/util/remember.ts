/** Stores a pending promise under its key, and forgets it if it fails while it is still the one stored. */
export function remember<K, V>(map: Map<K, Promise<V>>, key: K, pending: Promise<V>): Promise<V> {
  map.set(key, pending)
  pending.catch(() => {
    if (map.get(key) === pending) map.delete(key)
  })
  return pending
}

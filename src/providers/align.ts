/**
 * Puts results back in key order. DataLoader needs exactly one result per key, in order; a wrong
 * length makes it throw a TypeError that prints every key (contact emails in logs). Every batch
 * function goes through here, and a missing result becomes `missing(key)` instead.
 */
export function alignByKey<K, R>(
  keys: readonly K[],
  results: ReadonlyMap<K, R>,
  missing: (key: K) => R,
): R[] {
  return keys.map((key) => (results.has(key) ? (results.get(key) as R) : missing(key)));
}

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

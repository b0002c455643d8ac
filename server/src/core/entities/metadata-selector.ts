/**
 * A metadata value as a selector sees it: scalars as JavaScript's String() prints them; objects and arrays are never
 * selected (undefined), so every storage can index the same pairs.
 */
export function selectorValue(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
      return String(value);
    default:
      return undefined;
  }
}

/** The room's metadata has every key/value of the selector. */
export function metadataMatches(metadata: Record<string, unknown>, selector: readonly [string, string][]): boolean {
  return selector.every(([key, want]) => Object.hasOwn(metadata, key) && selectorValue(metadata[key]) === want);
}

/**
 * One key/value pair as an index entry: both lengths are written, so no two pairs encode alike and no entry is a
 * prefix of another (the Redis adapter keeps these in a lexicographic sorted set).
 */
export function selectorPair(key: string, value: string): string {
  return `${key.length}:${key}${value.length}:${value}`;
}

/** The index entries of a room's metadata: one per scalar value. */
export function metadataPairs(metadata: Record<string, unknown>): string[] {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    const text = selectorValue(value);
    if (text !== undefined) pairs.push(selectorPair(key, text));
  }
  return pairs;
}

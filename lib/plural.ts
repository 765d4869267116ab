/** "1 proc", "2 procs", "0 nodes": a count and its noun, plural unless the count is 1 (`many` for irregular nouns). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

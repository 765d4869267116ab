/**
 * Counted nouns for every message Raptor writes (chat, threads, logs): one place for the rule, so
 * no message says "1 hosts" or "2 proc". English plural: the noun as is when the count is 1.
 */

/** "1 proc", "2 procs", "0 nodes": a count and its noun, plural unless the count is 1 (`many` for irregular nouns). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** "1 proc on 1 host", "3 procs on 2 hosts": how many procs, on how many distinct hosts. */
export function procsOnHosts(procs: readonly { host: string }[], noun = "proc"): string {
  return `${plural(procs.length, noun)} on ${plural(new Set(procs.map((p) => p.host)).size, "host")}`;
}

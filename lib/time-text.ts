/**
 * Times as every Raptor message writes them: one format, `2026-11-30 03:25 UTC`, to the minute,
 * followed where it helps by how long ago or how soon (`(2m ago)`, `(in 30s)`). Schedules and
 * windows in playbooks are UTC, so the messages say UTC. Pure.
 */

/** `2026-11-30 03:25 UTC`. */
export function utcTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * The end of something (a timed lock) in the same format, rounded UP to the minute: a lock taken
 * at 04:32:33 for 1m shows `until … 04:34 UTC`, never a minute that has passed while it still holds.
 */
export function utcTimeEnd(d: Date): string {
  return utcTime(new Date(Math.ceil(d.getTime() / 60_000) * 60_000));
}

/** A duration between two instants in one unit: `45s`, `12m`, `3h`, `2d` (rounded; never negative). */
export function age(then: Date, now: Date): string {
  const s = Math.max(0, Math.round(Math.abs(now.getTime() - then.getTime()) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/**
 * A configured length of time as a playbook writes it, exactly, in the largest unit that divides
 * it: 5_400_000 -> `90m` (not age's rounded `2h`), 7_200_000 -> `2h`, 3_000 -> `3s`.
 */
export function durationText(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "m"],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

/** `2026-11-30 03:25 UTC (2m ago)`, or `(in 30s)` for a time still to come. */
export function utcTimeFrom(d: Date, now: Date): string {
  return `${utcTime(d)} (${d.getTime() > now.getTime() ? `in ${age(d, now)}` : `${age(d, now)} ago`})`;
}

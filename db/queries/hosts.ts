import { and, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { hosts } from "../schema/index.ts";

export type HostRow = typeof hosts.$inferSelect;

/** Every host Raptor has recorded, with its state and the ports other programs held. */
export async function allHosts(db: Db): Promise<HostRow[]> {
  return db.select().from(hosts);
}

/** Hosts that get no new procs: set inactive by an operator, or found down by the beat. */
export async function unplaceableHosts(db: Db): Promise<Set<string>> {
  return new Set((await db.select().from(hosts).where(or(eq(hosts.active, false), eq(hosts.state, "down")))).map((h) => h.name));
}

/** Records a squad's hosts (new ones active); existing rows are left as they are. */
export async function ensureHosts(db: Db, squad: string, names: readonly string[]): Promise<void> {
  if (names.length) await db.insert(hosts).values(names.map((name) => ({ name, squad }))).onConflictDoNothing();
}

/** Records the busy ports just read from a host's listeners (creating its row if new). */
export async function recordBusyPorts(db: Db, squad: string, name: string, busy: number[]): Promise<void> {
  await db
    .insert(hosts)
    .values({ name, squad, busyPorts: busy, portsCheckedAt: new Date() })
    .onConflictDoUpdate({ target: hosts.name, set: { busyPorts: busy, portsCheckedAt: new Date() } });
}

/** Adds one port to a host's busy ports (kept sorted and distinct), creating its row if new. */
export async function addBusyPort(db: Db, squad: string, name: string, port: number): Promise<void> {
  await db
    .insert(hosts)
    .values({ name, squad, busyPorts: [port], portsCheckedAt: new Date() })
    .onConflictDoUpdate({
      target: hosts.name,
      set: { busyPorts: sql`(select array_agg(distinct p order by p) from unnest(array_append(${hosts.busyPorts}, ${port}::int)) as p)` },
    });
}

/** The busy ports last recorded for these hosts, and when they were read; unknown hosts are absent. */
export async function busyPortsOf(db: Db, names: readonly string[]): Promise<Map<string, { ports: number[]; checkedAt: Date | null }>> {
  if (names.length === 0) return new Map();
  const rows = await db.select().from(hosts).where(inArray(hosts.name, [...names]));
  return new Map(rows.map((r) => [r.name, { ports: r.busyPorts, checkedAt: r.portsCheckedAt }]));
}

/** Which of these hosts the beat's hosts job last found down. */
export async function downHosts(db: Db, names: readonly string[]): Promise<Set<string>> {
  const rows = await db.select({ name: hosts.name }).from(hosts).where(and(inArray(hosts.name, [...names]), eq(hosts.state, "down")));
  return new Set(rows.map((r) => r.name));
}

/** A host's recorded state (`unknown` when it has no row yet). */
export async function hostState(db: Db, name: string): Promise<HostRow["state"]> {
  const [row] = await db.select({ state: hosts.state }).from(hosts).where(eq(hosts.name, name));
  return row?.state ?? "unknown";
}

/** What a check of a host records besides its state: when it was last seen up, its last error. */
export type HostSeen = Partial<Pick<HostRow, "lastSeenAt" | "lastError">>;

/**
 * Moves a host from state `from` to `to` (since `at`) with what the check saw, only if it is still
 * in `from`: of two overlapping checks, one makes the change. True when this call made it.
 */
export async function changeHostState(db: Db, name: string, from: HostRow["state"], to: HostRow["state"], at: Date, seen: HostSeen): Promise<boolean> {
  const changed = await db
    .update(hosts)
    .set({ state: to, stateSince: at, ...seen })
    .where(and(eq(hosts.name, name), eq(hosts.state, from)))
    .returning({ name: hosts.name });
  return changed.length > 0;
}

/** Records what a check saw of a host whose state did not change. */
export async function recordHostSeen(db: Db, name: string, seen: HostSeen): Promise<void> {
  await db.update(hosts).set(seen).where(eq(hosts.name, name));
}

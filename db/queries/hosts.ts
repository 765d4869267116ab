import { and, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { hosts } from "../schema/index.ts";

export type HostRow = typeof hosts.$inferSelect;

/*
 * A host row belongs to one squad (the key is squad + host name): two squads that name the same
 * machine reach it with their own credentials, user and root, and one's failure to reach it says
 * nothing about the other's. Every query here is therefore scoped to one squad.
 */

/** Every host row Raptor has recorded (one per squad that names the host), with its state and busy ports. */
export async function allHosts(db: Db): Promise<HostRow[]> {
  return db.select().from(hosts);
}

/** The key of a host row in maps built from allHosts: squad and host name. */
export function hostKey(squad: string, name: string): string {
  return `${squad}\u0000${name}`;
}

/** A squad's hosts that get no new procs: set inactive by an operator, or found down by the beat. */
export async function unplaceableHosts(db: Db, squad: string): Promise<Set<string>> {
  const rows = await db
    .select({ name: hosts.name })
    .from(hosts)
    .where(and(eq(hosts.squad, squad), or(eq(hosts.active, false), eq(hosts.state, "down"))));
  return new Set(rows.map((h) => h.name));
}

/** Records a squad's hosts (new ones active); existing rows are left as they are. */
export async function ensureHosts(db: Db, squad: string, names: readonly string[]): Promise<void> {
  if (names.length) await db.insert(hosts).values(names.map((name) => ({ name, squad }))).onConflictDoNothing();
}

/** Records the busy ports just read from a squad's host (creating its row if new). */
export async function recordBusyPorts(db: Db, squad: string, name: string, busy: number[]): Promise<void> {
  await db
    .insert(hosts)
    .values({ name, squad, busyPorts: busy, portsCheckedAt: new Date() })
    .onConflictDoUpdate({ target: [hosts.squad, hosts.name], set: { busyPorts: busy, portsCheckedAt: new Date() } });
}

/** Adds one port to a squad's host's busy ports (kept sorted and distinct), creating its row if new. */
export async function addBusyPort(db: Db, squad: string, name: string, port: number): Promise<void> {
  await db
    .insert(hosts)
    .values({ name, squad, busyPorts: [port], portsCheckedAt: new Date() })
    .onConflictDoUpdate({
      target: [hosts.squad, hosts.name],
      set: { busyPorts: sql`(select array_agg(distinct p order by p) from unnest(array_append(${hosts.busyPorts}, ${port}::int)) as p)` },
    });
}

/** The busy ports last recorded for these hosts of a squad, and when they were read; unknown hosts are absent. */
export async function busyPortsOf(db: Db, squad: string, names: readonly string[]): Promise<Map<string, { ports: number[]; checkedAt: Date | null }>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.squad, squad), inArray(hosts.name, [...names])));
  return new Map(rows.map((r) => [r.name, { ports: r.busyPorts, checkedAt: r.portsCheckedAt }]));
}

/** Which of these hosts of a squad the beat's hosts job last found down. */
export async function downHosts(db: Db, squad: string, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db
    .select({ name: hosts.name })
    .from(hosts)
    .where(and(eq(hosts.squad, squad), inArray(hosts.name, [...names]), eq(hosts.state, "down")));
  return new Set(rows.map((r) => r.name));
}

/** A squad's host's recorded state (`unknown` when it has no row yet). */
export async function hostState(db: Db, squad: string, name: string): Promise<HostRow["state"]> {
  const [row] = await db
    .select({ state: hosts.state })
    .from(hosts)
    .where(and(eq(hosts.squad, squad), eq(hosts.name, name)));
  return row?.state ?? "unknown";
}

/** What a check of a host records besides its state: when it was last seen up, its last error. */
export type HostSeen = Partial<Pick<HostRow, "lastSeenAt" | "lastError">>;

/**
 * Moves a squad's host from state `from` to `to` (since `at`) with what the check saw, only if it
 * is still in `from`: of two overlapping checks, one makes the change. True when this call made it.
 */
export async function changeHostState(db: Db, squad: string, name: string, from: HostRow["state"], to: HostRow["state"], at: Date, seen: HostSeen): Promise<boolean> {
  const changed = await db
    .update(hosts)
    .set({ state: to, stateSince: at, ...seen })
    .where(and(eq(hosts.squad, squad), eq(hosts.name, name), eq(hosts.state, from)))
    .returning({ name: hosts.name });
  return changed.length > 0;
}

/** Records what a check saw of a squad's host whose state did not change. */
export async function recordHostSeen(db: Db, squad: string, name: string, seen: HostSeen): Promise<void> {
  await db
    .update(hosts)
    .set(seen)
    .where(and(eq(hosts.squad, squad), eq(hosts.name, name)));
}

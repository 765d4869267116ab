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

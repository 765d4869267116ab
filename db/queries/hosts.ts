import { eq, or } from "drizzle-orm";
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

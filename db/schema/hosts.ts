import { boolean, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { hostStateEnum } from "./enums.ts";

/**
 * Hosts seen in squads. `active` false keeps new procs off a host by the operator's choice;
 * `state` is what the beat's hosts job last found (SSH and supervisord both answer = up), and
 * placement skips hosts that are down too.
 */
export const hosts = pgTable("hosts", {
  name: text("name").primaryKey(),
  squad: text("squad").notNull(),
  active: boolean("active").notNull().default(true),
  state: hostStateEnum("state").notNull().default("unknown"),
  /** When `state` last changed. */
  stateSince: timestamp("state_since", { withTimezone: true }),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
  lastError: text("last_error"),
  /**
   * Ports of the squad's range that another program held at the last check (a listener Raptor
   * did not start, or a port a proc could not bind): placement skips them, `hosts` lists them.
   */
  busyPorts: integer("busy_ports").array().notNull().default([]),
  /** When busyPorts was last read from the host. */
  portsCheckedAt: timestamp("ports_checked_at", { withTimezone: true }),
});

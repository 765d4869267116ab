import { boolean, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { hostStateEnum } from "./enums.ts";

/**
 * Hosts seen in squads, one row per (squad, host): two squads may name the same machine, each with
 * its own SSH user, supervisord URL and credentials and root, so each has its own view of it. A
 * wrong password in one squad makes that squad's row down, never the other's (red team M3: one
 * shared row flipped down and marked the other squad's serving procs failed). `active` false keeps
 * new procs off a host by the operator's choice; `state` is what the beat's hosts job last found
 * (SSH and supervisord both answer = up), and placement skips hosts that are down too.
 */
export const hosts = pgTable(
  "hosts",
  {
    name: text("name").notNull(),
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
  },
  (t) => [primaryKey({ columns: [t.squad, t.name] })],
);

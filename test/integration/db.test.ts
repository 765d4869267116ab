import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentLock, insertEnvironmentLock } from "../../db/queries/locks.ts";
import { builds, locks, releases } from "../../db/schema/index.ts";
import { liveProcsOnHosts, placeAndLease } from "../../db/queries/procs.ts";
import { freshDb } from "../support/db.ts";
import type { DbHandle } from "../../db/client.ts";

describe("postgres database", () => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await freshDb();
  });
  afterAll(() => h.close());

  it("round-trips a lock and refuses a second holder of the same app+env", async () => {
    await h.db.insert(locks).values({ app: "web", env: "production", heldBy: "U1", reason: "incident" });
    const [row] = await h.db.select().from(locks).where(eq(locks.app, "web"));
    expect(row?.heldBy).toBe("U1");
    await expect(h.db.insert(locks).values({ app: "web", env: "production", heldBy: "U2" })).rejects.toThrow();
  });

  it("a timed lock holds until its expiresAt and not a moment past it, whether or not the beat has removed its row", async () => {
    const ends = new Date("2026-11-30T04:33:33.000Z");
    await insertEnvironmentLock(h.db, { app: "hello", env: "local", heldBy: "root", reason: "testing the lock", expiresAt: ends });
    expect((await environmentLock(h.db, "hello", "local", new Date("2026-11-30T04:33:32.999Z")))?.heldBy).toBe("root");
    expect(await environmentLock(h.db, "hello", "local", ends)).toBeUndefined();
    expect(await environmentLock(h.db, "hello", "local", new Date("2026-11-30T04:33:50.000Z"))).toBeUndefined();
  });
  it("a lock without an end holds at any time", async () => {
    await insertEnvironmentLock(h.db, { app: "hello", env: "staging", heldBy: "ann" });
    expect((await environmentLock(h.db, "hello", "staging", new Date("2099-01-01T00:00:00Z")))?.heldBy).toBe("ann");
  });

  it("twenty placements at once each lease a port of their own: reading the loads and leasing are one turn (bench/throughput: one of 20 deployments failed at start after five collisions)", async () => {
    const [build] = await h.db.insert(builds).values({ app: "t", commit: "b".repeat(40), buildpack: "auto", status: "succeeded" }).returning();
    const [rel] = await h.db.insert(releases).values({ app: "t", env: "bench", number: 1, buildId: build!.id, config: {}, settings: {}, hash: "h", createdBy: "U1", description: "deploy" }).returning();
    // Each placement takes the lowest port no live proc holds, as placement does on a busy host;
    // a tick between the read and the lease lets the others read the same loads if they may.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        placeAndLease(h.db, async (tx) => {
          const held = new Set((await liveProcsOnHosts(tx, ["10.0.0.1"])).map((p) => p.port!));
          let port = 7000;
          while (held.has(port)) port++;
          await new Promise((r) => setTimeout(r, 5));
          return [{ app: "t", env: "bench", procType: "web", releaseId: rel!.id, host: "10.0.0.1", port, name: `t-bench-v1-web-${i}` }];
        }),
      ),
    );
    const ports = (await liveProcsOnHosts(h.db, ["10.0.0.1"])).map((p) => p.port).sort();
    expect(ports).toEqual(Array.from({ length: 20 }, (_, i) => 7000 + i));
  });
});

import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentLock, insertEnvironmentLock } from "../../db/queries/locks.ts";
import { locks } from "../../db/schema/index.ts";
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
});

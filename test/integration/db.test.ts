import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
});

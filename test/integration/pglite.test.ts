import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDb } from "../../db/client.ts";
import { builds, deployments, deploymentSteps, releases } from "../../db/schema/index.ts";

describe("embedded PGlite (no DATABASE_URL)", () => {
  it("applies the committed migrations and round-trips a deployment with its release and steps", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-pglite-"));
    try {
      const h = await openDb({ dataDir: dir });
      expect(h.driver).toBe("pglite");
      const [build] = await h.db.insert(builds).values({ app: "hello", commit: "a".repeat(40), buildpack: "auto", status: "succeeded" }).returning();
      const [rel] = await h.db
        .insert(releases)
        .values({ app: "hello", env: "local", number: 1, buildId: build!.id, config: { A: "1" }, settings: {}, hash: "abcd1234", createdBy: "U1", description: "deploy" })
        .returning();
      await h.db.insert(deployments).values({ id: "d-test1234", kind: "deploy", app: "hello", env: "local", requestedBy: "U1", toReleaseId: rel!.id, params: { ref: "main" } });
      await h.db.insert(deploymentSteps).values([
        { deploymentId: "d-test1234", name: "resolve", position: 0 },
        { deploymentId: "d-test1234", name: "build", position: 1 },
      ]);
      const [d] = await h.db.select().from(deployments).where(eq(deployments.id, "d-test1234"));
      expect(d).toMatchObject({ status: "queued", params: { ref: "main" }, toReleaseId: rel!.id });
      expect(await h.db.select().from(deploymentSteps).where(eq(deploymentSteps.deploymentId, "d-test1234"))).toHaveLength(2);
      // Release numbers are unique per app+env, on PGlite as on Postgres.
      await expect(
        h.db.insert(releases).values({ app: "hello", env: "local", number: 1, buildId: build!.id, config: {}, settings: {}, hash: "x", createdBy: "U1", description: "dup" }),
      ).rejects.toThrow();
      await h.close();
      // Re-opening finds the data and does not re-apply migrations.
      const again = await openDb({ dataDir: dir });
      expect(await again.db.select().from(releases)).toHaveLength(1);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

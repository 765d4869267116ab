import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentSteps } from "../../db/schema/index.ts";
import { runDeployment } from "../../engine/pipeline/run.ts";
import type { Harness } from "../support/raptor-harness.ts";
import { startHelloHarness } from "../support/hello-harness.ts";

/**
 * A worker that stalled past its BullMQ lock may come back to find another worker running its
 * deployment: at the next step boundary it must stop without touching anything.
 */
describe("a worker that lost its job", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHelloHarness({ ports: "7900-7909", root: "/tmp/raptor-ownership" });
  }, 60_000);
  afterAll(() => h?.close());

  it("stops at the next step boundary and runs no step", async () => {
    const r = await h.say("deploy hello local", { follow: false });
    if (r.reply.kind !== "deployment") throw new Error(r.text);
    let asked = 0;
    const outcome = await runDeployment(h.engine, r.reply.deploymentId, {
      finalAttempt: false,
      stillOwner: async () => {
        asked++;
        return false;
      },
    });
    expect(outcome).toEqual({ kind: "lost" });
    expect(asked).toBe(1);
    const steps = await h.engine.db.select().from(deploymentSteps).where(eq(deploymentSteps.deploymentId, r.reply.deploymentId));
    expect(steps.map((s) => s.status)).toEqual(steps.map(() => "pending"));
  });
});

import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentSteps } from "../../db/schema/index.ts";
import { runDeployment } from "../../engine/pipeline/run.ts";
import { makeAppRepo, HELLO_APP } from "../support/app-repo.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";

/**
 * A worker that stalled past its BullMQ lock may come back to find another worker running its
 * deployment: at the next step boundary it must stop without touching anything.
 */
describe("a worker that lost its job", () => {
  let h: Harness;
  beforeAll(async () => {
    const repo = await makeAppRepo(HELLO_APP);
    h = await startHarness({
      workers: 0,
      playbookYaml: {
        "pb.yaml": [
          "squads:",
          "  here: { hosts: [127.0.0.1], transport: local, ports: 7900-7909, root: /tmp/raptor-ownership }",
          "apps:",
          `  hello: { repo: ${JSON.stringify(repo.path)}, environments: { local: { squad: here } } }`,
        ].join("\n"),
      },
    });
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

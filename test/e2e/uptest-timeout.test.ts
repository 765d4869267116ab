import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/** uptest_timeout means what it says (issue 9, item 8): the environment's deadline governs each run. */
describe("uptest_timeout", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    // The input: an uptest that takes 15 s under `uptest_timeout: 60s` failed after 61 s with
    // "timed out after 4157ms": each run was capped at a fixed 10 s.
    repo = await makeAppRepo(HELLO_APP, { "uptests/web/slow": "#!/bin/sh\nsleep 15\necho slow but fine\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: {
            repo: repo.path,
            environments: {
              patient: bedEnv(1, "hello_patient", { uptest_timeout: "60s" }),
              capped: bedEnv(1, "hello_capped", { uptest_timeout: "5s", uptest_run_timeout: "2s" }),
            },
          },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  it("a 15 s uptest passes under uptest_timeout: 60s (no hidden per-run cap)", async () => {
    const r = await h.say("deploy hello patient");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
  }, 120_000);

  it("uptest_run_timeout caps each run; the failure reports the real time spent", async () => {
    const r = await h.say("deploy hello capped");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    const m = r.text.match(/slow did not pass within uptest_timeout 5\.0s: gave up after (\d+\.\d)s and (\d+) attempts?\./);
    expect(m, r.text).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(5);
    expect(Number(m![1])).toBeLessThan(15);
    expect(r.text).toMatch(/timed out after (2000|1000)ms/); // each run capped at 2 s (the last one at the 1 s minimum)
  }, 120_000);
});

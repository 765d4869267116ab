import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/** Rollback makes the rolled-back release's config the environment's config (issue 9, item 3). */
describe("rollback and config", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { local: bedEnv(1, "hello_local", { uptest_timeout: "20s", env: { GREETING: "hi" } }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const greetings = async () => Promise.all((await liveProcRows(h, "hello", "local")).map((p) => httpGet(p.host, p.port!, "/env/GREETING")));
  const ok = async (text: string) => {
    const r = await h.say(text);
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    return r;
  };

  it("after config set then rollback, config shows the old config and the next plain deploy keeps it", async () => {
    await ok("deploy hello local");
    expect(await greetings()).toEqual(["hi"]);
    await ok("config set hello local GREETING=howdy");
    expect(await greetings()).toEqual(["howdy"]);
    await ok("rollback hello local");
    expect(await greetings()).toEqual(["hi"]);
    const shown = await h.say("config hello local");
    expect(shown.text).toContain("GREETING=hi");
    expect(shown.text).not.toContain("not released yet");
    // The input: the next plain `deploy hello local`, nothing else changed, brought howdy
    // back without a word. It now finds the rolled-back release already serving.
    const plain = await ok("deploy hello local");
    expect(plain.text).toContain("nothing changed");
    expect(await greetings()).toEqual(["hi"]);
    // And a deploy of a new commit keeps it too.
    await repo.commit({ VERSION: "v2\n" });
    await ok("deploy hello local");
    expect(await greetings()).toEqual(["hi"]);
    expect((await h.say("config hello local")).text).toContain("GREETING=hi");
  }, 180_000);

  it("rolling back to a release made by config set keeps that value for the next deploy", async () => {
    await ok("config set hello local GREETING=howdy");
    const v = (await h.say("releases hello local")).text.match(/▶ v(\d+)/)![1];
    await ok("config set hello local GREETING=hey");
    expect(await greetings()).toEqual(["hey"]);
    await ok(`rollback hello local v${v}`);
    expect(await greetings()).toEqual(["howdy"]);
    const shown = await h.say("config hello local");
    expect(shown.text).toContain("GREETING=howdy"); // an ordinary value shows as typed (issue 11 item 1)
    await repo.commit({ VERSION: "v3\n" });
    await ok("deploy hello local");
    expect(await greetings()).toEqual(["howdy"]);
  }, 180_000);

  it("a value marked secret stays masked after a rollback", async () => {
    await ok("config secret hello local PASSPHRASE=opensesame99");
    await ok("config set hello local GREETING=later");
    await ok("rollback hello local");
    const shown = await h.say("config hello local");
    expect(shown.text).toMatch(/PASSPHRASE=\[REDACTED\]/);
    expect(shown.text).not.toContain("opensesame99");
  }, 180_000);

  // New-user trial, finding 6: `rollback hello local v14` to a release that failed its uptest and
  // never served was queued without a word, and failed the same way.
  it("a rollback to a release that never served is refused, with rollback! to go there anyway", async () => {
    await repo.commit({ "uptests/web/http": "#!/bin/sh\necho \"SyntaxError: Unexpected token on $1:$2\" >&2\nexit 1\n" }, "broken uptest");
    const failed = await h.say("deploy hello local");
    expect(failed.final?.type, failed.text).toBe("deployment.failed");
    const serving = (await h.say("releases hello local")).text;
    const bad = Number(/ v(\d+) .* — failed/.exec(serving)![1]);
    const before = (await h.engine.db.query.deployments.findMany()).length;
    const greeting = await greetings();

    const r = await h.say(`rollback hello local v${bad}`);
    expect(r.reply).toMatchObject({ kind: "refused", code: "needs_confirmation", confirm: `rollback! hello local v${bad}` });
    expect(r.reply.text).toMatch(new RegExp(`^v${bad} never served hello local: d-\\w+ failed at uptest \\(uptest_failed\\)\\. `));
    expect(r.reply.text).toContain(`to roll back to v${bad} anyway, type \`rollback! hello local v${bad}\``);
    expect((await h.engine.db.query.deployments.findMany()).length).toBe(before);

    const plan = await h.say(`plan rollback hello local v${bad}`);
    expect(plan.text).toContain(`v${bad} never served hello local`);
    // Trial 2, M1: the command offered is the one that runs, not the refused plain form.
    expect(plan.text.split("\n").at(-1)).toBe(`Nothing was run. To do it: \`rollback! hello local v${bad}\``);

    // `rollback!` is let through (planned, not run: it would fail its uptest again).
    const anyway = await h.say(`plan rollback! hello local v${bad}`);
    expect(anyway.reply.kind, anyway.text).toBe("answer");
    expect(anyway.text).toContain(`v${bad}`);
    expect(anyway.text).not.toContain("never served");
    expect(await greetings()).toEqual(greeting);
  }, 180_000);
});

import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { auditLog, builds, deploymentEvents, deployments } from "../../db/schema/index.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { answerQuery } from "../../bot/answers/index.ts";
import { Queues } from "../../engine/queues.ts";

/** An uptest that fails when the proc's GREETING is "break": a config change that must not stick. */
const PICKY_UPTEST = `#!/bin/sh
if [ "$GREETING" = "break" ]; then echo "GREETING=break is not allowed here"; exit 1; fi
exec node "$(dirname "$0")/http" "$@"
`;

describe("policy: approvals, config changes that fail, secrets", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  const ALICE = { id: "U_ALICE" };
  const BOB = { id: "U_BOB" };

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { "uptests/web/picky": PICKY_UPTEST });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: {
            repo: repo.path,
            environments: {
              prod: bedEnv(1, "hello_prod", { uptest_timeout: "6s", env: { GREETING: "hi" }, approval: { required: true, timeout: "30m" } }),
              stage: bedEnv(1, "hello_stage", { uptest_timeout: "6s", env: { GREETING: "hi" } }),
              frozen: bedEnv(1, "hello_frozen", { freeze: ["Fri 16:00 - Mon 08:00"] }),
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

  const started = async (id: string) =>
    (await h.engine.db.select().from(deploymentEvents).where(eq(deploymentEvents.deploymentId, id)).orderBy(asc(deploymentEvents.id))).map((e) => ({ type: e.type, at: e.createdAt.getTime(), id: e.id }));

  it("approving the later of two pending deployments first never runs two at once", async () => {
    const a = await h.say("deploy hello prod", { actor: ALICE, follow: false });
    const b = await h.say("deploy hello prod", { actor: ALICE, follow: false });
    if (a.reply.kind !== "deployment" || b.reply.kind !== "deployment") throw new Error(a.text + b.text);
    expect(a.reply.text).toContain("waiting for approval");
    // Approving B first, then A while B runs: A must wait for B to end.
    expect((await h.say(`approve ${b.reply.deploymentId}`, { actor: BOB })).text).toContain("approved");
    expect((await h.say(`approve ${a.reply.deploymentId}`, { actor: BOB })).text).toContain("approved");
    const [rb, ra] = await Promise.all([h.follow(b.reply.deploymentId, b.reply.since), h.follow(a.reply.deploymentId, a.reply.since)]);
    expect(rb.final?.type, rb.text).toBe("deployment.succeeded");
    expect(ra.final?.type, ra.text).toBe("deployment.succeeded");
    // Whichever went first, their running windows (started .. succeeded, in stream order) are apart.
    const window = async (id: string) => {
      const ev = await started(id);
      return [ev.find((e) => e.type === "deployment.started")!.id, ev.find((e) => e.type === "deployment.succeeded")!.id] as const;
    };
    const [wa, wb] = [await window(a.reply.deploymentId), await window(b.reply.deploymentId)];
    expect(wa[1] < wb[0] || wb[1] < wa[0], `A ${wa} B ${wb}`).toBe(true);
  });

  it("the requester cannot approve their own deployment", async () => {
    const a = await h.say("deploy hello prod", { actor: ALICE, follow: false });
    if (a.reply.kind !== "deployment") throw new Error(a.text);
    const self = await h.say(`approve ${a.reply.deploymentId}`, { actor: ALICE });
    expect(self.reply.kind).toBe("refused");
    expect(self.text).toContain(`you asked for ${a.reply.deploymentId}, so someone else must approve it.`);
    // Issue 11 item 11: rejecting one's own points to cancel.
    const own = await h.say(`reject ${a.reply.deploymentId}`, { actor: ALICE });
    expect(own.text).toContain(`to withdraw it yourself, type \`cancel ${a.reply.deploymentId}\``);
    expect((await h.say(`reject ${a.reply.deploymentId} not today`, { actor: BOB })).text).toContain("rejected");
    expect((await h.engine.db.select().from(deployments).where(eq(deployments.id, a.reply.deploymentId)))[0]!.status).toBe("rejected");
  });

  it("a config change whose uptest fails is not kept: the next deploy still ships the old value", async () => {
    expect((await h.say("deploy hello stage")).final?.type).toBe("deployment.succeeded");
    const bad = await h.say("config set hello stage GREETING=break");
    expect(bad.final?.type, bad.text).toBe("deployment.failed");
    // An ordinary value is shown as typed (issue 11): only secrets are masked.
    expect(bad.text).toContain("GREETING=break is not allowed here");
    const shown = await h.say("config hello stage");
    expect(shown.text).not.toContain("not released yet");
    const again = await h.say("deploy hello stage");
    expect(again.final?.type, again.text).toBe("deployment.succeeded");
    const port = Number(/web:(\d+)/.exec(again.text)?.[1]);
    expect(await httpGet(bed.hosts[0]!.name, port, "/env/GREETING")).toBe("hi");
  });

  it("a secret with quotes and backslashes never reaches the thread, the events or the audit log", async () => {
    const secret = 'pa"ss\\wo-1234';
    const r = await h.say(`config set hello stage HELLO_TOKEN='${secret}'`);
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const port = Number(/web:(\d+)/.exec(r.text)?.[1]);
    expect(await httpGet(bed.hosts[0]!.name, port, "/env/HELLO_TOKEN")).toBe(secret);
    const stored = (await h.engine.db.select().from(deploymentEvents)).map((e) => JSON.stringify(e.data)).join("\n");
    const audit = (await h.engine.db.select().from(auditLog)).map((a) => JSON.stringify(a.detail)).join("\n");
    for (const text of [r.text, JSON.stringify(r.events), stored, audit]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    expect((await h.say("config hello stage")).text).toContain("HELLO_TOKEN=[REDACTED]");
  });

  it("an approval nobody gave in time expires: approving afterwards is refused and the deployment ends", async () => {
    const a = await h.say("deploy hello prod", { actor: ALICE, follow: false });
    if (a.reply.kind !== "deployment") throw new Error(a.text);
    const realNow = h.engine.now;
    h.engine.now = () => new Date(Date.now() + 31 * 60_000); // past the 30m timeout
    try {
      const late = await h.say(`approve ${a.reply.deploymentId}`, { actor: BOB });
      expect(late.reply.kind).toBe("refused");
      expect(late.text).toContain(`the approval for ${a.reply.deploymentId} expired`);
    } finally {
      h.engine.now = realNow;
    }
    const ended = await h.follow(a.reply.deploymentId, a.reply.since);
    expect(ended.final?.type).toBe("deployment.rejected");
    expect(ended.text).toContain("nobody approved it in time");
  });

  it("status and logs read supervisord live", async () => {
    const status = await h.say("status hello stage");
    expect(status.text).toMatch(/hello stage\*?: v\d+/);
    expect(status.text).toMatch(/127\.0\.0\.2: hello-stage-v\d+-web-\d+ RUNNING/);
    const logs = await h.say("logs hello stage web 5");
    expect(logs.reply.kind).toBe("answer");
    expect(logs.text).toMatch(/── hello-stage-v\d+-web-\d+ on 127\.0\.0\.2/);
    expect(logs.text).not.toContain("unavailable");
    expect(logs.text).toContain("listening");
  });

  it("status and logs are read by a worker: when none answers, the reply names the host that did not, in time", async () => {
    // A queue prefix no worker listens on stands for every worker being down or busy.
    const queues = new Queues(h.engine.redisUrl, `${h.engine.prefix}noworker:`);
    const deps = { ...h.engine, queues, options: { ...h.engine.options, liveReadTimeoutMs: 1_000 } };
    try {
      const t0 = Date.now();
      const status = await answerQuery(deps, { kind: "status", app: "hello", env: "stage" });
      expect(status.kind).toBe("answer");
      expect((status as { text: string }).text).toMatch(/127\.0\.0\.2 \(unreachable: 127\.0\.0\.2 did not answer in 1s\): hello-stage-v\d+-web-\d+ \?/);
      const logs = await answerQuery(deps, { kind: "logs", app: "hello", env: "stage", proc: "web", lines: 5 });
      expect((logs as { text: string }).text).toMatch(/── hello-stage-v\d+-web-\d+ on 127\.0\.0\.2\n\(unavailable: 127\.0\.0\.2 did not answer in 1s\)/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await queues.close();
    }
  });

  it("a freeze window refuses a deploy, says which window, and deploy! goes through", async () => {
    const realNow = h.engine.now;
    h.engine.now = () => new Date("2026-11-21T12:00:00Z"); // a Saturday, inside Fri 16:00 - Mon 08:00
    try {
      const refused = await h.say("deploy hello frozen");
      expect(refused.reply.kind).toBe("refused");
      // Issue 11 item 10: when the window ends, and that the times are UTC.
      expect(refused.text).toContain('hello frozen is frozen until 2026-11-23 08:00 UTC (freeze window "Fri 16:00 - Mon 08:00"; freeze times are UTC).');
      expect(refused.text).toContain("`deploy!` skips the freeze window");
      const forced = await h.say("deploy! hello frozen");
      expect(forced.final?.type, forced.text).toBe("deployment.succeeded");
      h.engine.now = () => new Date("2026-11-18T12:00:00Z"); // a Wednesday: no freeze
      expect((await h.say("deploy hello frozen")).reply.kind).toBe("deployment");
    } finally {
      h.engine.now = realNow;
    }
  });

  it("a build whose tarball is gone from this machine is built again into the same build row", async () => {
    const before = await h.say("deploy hello stage");
    expect(before.final?.type, before.text).toBe("deployment.succeeded");
    const [d] = await h.engine.db.select().from(deployments).where(eq(deployments.id, before.reply.kind === "deployment" ? before.reply.deploymentId : ""));
    const [build] = await h.engine.db.select().from(builds).where(eq(builds.id, d!.buildId!));
    await rm(build!.path!);
    // Scaling up starts procs from that build: the per-host job finds it missing and rebuilds it.
    const scaled = await h.say("scale hello stage web=2");
    expect(scaled.final?.type, scaled.text).toBe("deployment.succeeded");
    const [after] = await h.engine.db.select().from(builds).where(eq(builds.id, build!.id));
    expect(after).toMatchObject({ id: build!.id, status: "succeeded" });
    expect(existsSync(after!.path!)).toBe(true);
    // And a deploy of the same commit reuses it again.
    const again = await h.say("deploy hello stage");
    expect(again.text, again.text).toContain(`reused build ${build!.id.slice(0, 8)}`);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { followDeployment } from "../../engine/events.ts";
import { withPoolLock } from "../../engine/locks.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { REDIS_URL, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * New-user trial (2026-11-30), the findings where the chat said something untrue about a
 * deployment on real hosts: a cancel that came too late (finding 2), and the step its notes
 * were labelled with.
 */

/** An uptest that takes a while: a cancel typed while it runs lands before routing. */
const SLOW_UPTEST = `#!/bin/sh
sleep 2
exec node "$(dirname "$0")/http" "$@"
`;

describe("trial: what the chat says is true (one ssh host, memory balancer)", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let slow: AppRepo;
  let again: AppRepo;
  let noop: AppRepo;
  let h: Harness;
  const root = { id: "root" };

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    slow = await makeAppRepo(HELLO_APP, { VERSION: "v1\n", "uptests/web/slow": SLOW_UPTEST });
    again = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    noop = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { local: bedEnv(3, "hello_local", { uptest_timeout: "8s", url: "http://127.0.0.1:8080" }) } },
          noop: { repo: noop.path, environments: { local: bedEnv(1, "noop_local", { uptest_timeout: "8s" }) } },
          again: { repo: again.path, environments: { local: bedEnv(1, "again_local", { uptest_timeout: "8s" }) } },
          slow: { repo: slow.path, environments: { local: bedEnv(2, "slow_local", { uptest_timeout: "8s" }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  /** Resolves when deployment `id` starts `step` (its step.started event). */
  const whenStepStarts = async (id: string, step: string): Promise<void> => {
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const stop = new AbortController();
    try {
      await new Promise<void>((resolve, reject) => {
        followDeployment(conn, h.engine.prefix, id, (e) => {
          if (e.type === "step.started" && e.step === step) resolve();
        }, { signal: stop.signal }).then(() => reject(new Error(`${id} ended before ${step} started`)), reject);
      });
    } finally {
      stop.abort();
      conn.disconnect();
    }
  };

  it("finding 2: a cancel that arrives during route is answered 'too late', and the thread says so next to the success", async () => {
    expect((await h.say("deploy hello local", { actor: root })).final?.type).toBe("deployment.succeeded");
    await repo.commit({ VERSION: "v2\n" });
    // The pool's lock held: route has begun and waits for it, so the cancel lands during route.
    const { id, cancel } = await withPoolLock(h.engine, "lb", "hello_local", async () => {
      const d = await h.say("deploy hello local", { actor: root, follow: false });
      if (d.reply.kind !== "deployment") throw new Error(d.text);
      await whenStepStarts(d.reply.deploymentId, "route");
      return { id: d.reply.deploymentId, cancel: await h.say(`cancel ${d.reply.deploymentId}`, { actor: root }) };
    });
    expect(cancel.reply.kind).toBe("refused");
    expect(cancel.text).toBe(`too late to cancel ${id}: route is under way, so it will finish. To undo it afterwards: \`rollback hello local v1\`.`);
    const thread = await h.follow(id);
    expect(thread.final?.type, thread.text).toBe("deployment.succeeded");
    expect(thread.text).toContain("route: cancel asked by root came too late: route is under way, so the deployment will finish; to undo it afterwards: rollback hello local v1");
    expect(thread.text).not.toContain("stopping at the next step");
    expect(thread.text).not.toContain("resolve: ");
  });

  it("finding 2: a cancel during uptest stops the deployment, and its notes name uptest, not resolve", async () => {
    expect((await h.say("deploy slow local", { actor: root })).final?.type).toBe("deployment.succeeded");
    await slow.commit({ VERSION: "v2\n" });
    const d = await h.say("deploy slow local", { actor: root, follow: false });
    if (d.reply.kind !== "deployment") throw new Error(d.text);
    await whenStepStarts(d.reply.deploymentId, "uptest");
    const cancel = await h.say(`cancel ${d.reply.deploymentId}`, { actor: root });
    expect(cancel.text).toBe(`${d.reply.deploymentId} stops before its next step (it is at uptest) and cleans up.`);
    const thread = await h.follow(d.reply.deploymentId, d.reply.since);
    expect(thread.final?.type, thread.text).toBe("deployment.cancelled");
    expect(thread.text).toContain("uptest: cancel requested by root; stopping at the next step");
    expect(thread.text).toMatch(/uptest: removed 2 new procs/);
    expect(thread.text).not.toContain("resolve: ");
  });

  it("finding 4: scale! to 0 says nothing serves and the pool is empty, never 'serving' or 'reachable'", async () => {
    const scaled = await h.say("scale! hello local web=0", { actor: root });
    expect(scaled.final?.type, scaled.text).toBe("deployment.succeeded");
    expect(scaled.text).toContain("hello local now runs no procs; nothing serves http://127.0.0.1:8080, its pool hello_local is empty (scale hello local web=N to bring it back)");
    expect(scaled.text).not.toContain("serving —");
    expect(scaled.text).not.toContain("reachable at");
    // And back: a scale that leaves procs listening says where it is reachable again.
    const back = await h.say("scale hello local web=1", { actor: root });
    expect(back.final?.type, back.text).toBe("deployment.succeeded");
    expect(back.text).toContain("reachable at http://127.0.0.1:8080");
  });

  it("finding 3: a release cut by a deploy that failed, then shipped by one that succeeded, is listed as serving and served, credited to the one that served it", async () => {
    expect((await h.say("deploy again local", { actor: root })).final?.type).toBe("deployment.succeeded");
    await again.commit({ VERSION: "v2\n" });
    const host = bed.hosts[0]!.name;
    await bed.stopSupervisord(host);
    let failedId = "";
    try {
      const failed = await h.say("deploy again local", { actor: root });
      expect(failed.final?.type, failed.text).toBe("deployment.failed");
      failedId = failed.reply.kind === "deployment" ? failed.reply.deploymentId : "";
    } finally {
      await bed.startSupervisord(host);
    }
    const served = await h.say("deploy again local", { actor: root });
    expect(served.final?.type, served.text).toBe("deployment.succeeded");
    expect(served.text).toContain("is now v2");
    const servedId = served.reply.kind === "deployment" ? served.reply.deploymentId : "";
    const v2 = (text: string) => text.split("\n").find((l) => /^\S?\s*v2 /.test(l.trimStart()) || l.includes(" v2  "))!;
    const now = (await h.say("releases again local", { actor: root })).text;
    expect(v2(now), now).toContain(`— serving (${servedId})`);
    expect((await h.say("config set again local GREETING=howdy", { actor: root })).final?.type).toBe("deployment.succeeded");
    const later = (await h.say("releases again local", { actor: root })).text;
    expect(v2(later), later).toContain(`— served, replaced later (${servedId})`);
    expect(later).not.toContain("never served");
    expect(later).not.toContain(failedId);
  });

  it("finding 12: a deploy that changed nothing is listed as such in deploys and not credited in who deployed", async () => {
    expect((await h.say("deploy noop local", { actor: root })).final?.type).toBe("deployment.succeeded");
    expect((await h.say("config set noop local GREETING=howdy", { actor: root })).final?.type).toBe("deployment.succeeded");
    const rollback = await h.say("rollback noop local", { actor: root });
    expect(rollback.final?.type, rollback.text).toBe("deployment.succeeded");
    expect(rollback.text).toContain("is now v3");
    const same = await h.say("deploy noop local", { actor: root });
    expect(same.text).toContain("nothing changed, v3");
    const sameId = same.reply.kind === "deployment" ? same.reply.deploymentId : "";
    const rollbackId = rollback.reply.kind === "deployment" ? rollback.reply.deploymentId : "";
    const who = (await h.say("who deployed noop local", { actor: root })).text;
    expect(who).toContain(`noop local serves v3, put in place by root (\`rollback noop local\`) — v3`);
    expect(who).toContain(`(${rollbackId})`);
    expect(who).not.toContain(sameId);
    const deploys = (await h.say("deploys noop local", { actor: root })).text;
    expect(deploys).toContain(`\`deploy noop local\` — nothing changed (v3 already served) (${sameId})`);
  });
});

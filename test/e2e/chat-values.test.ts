import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rollbackCommand } from "../../bot/notify/blocks.ts";
import { reduceThread, type ThreadState } from "../../bot/notify/thread.ts";
import type { EngineEvent } from "../../engine/event-types.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * Issue #11, values and names, through the engine: ordinary config values stay readable (and the
 * Rollback button's value works), secrets are masked, every ref git accepts deploys, an app with
 * one environment needs none named, and what can be refused early is refused before queueing.
 */
describe("chat values and names, end to end", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { local: bedEnv(1, "hello_local", { uptest_timeout: "6s" }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
  });

  const thread = (events: EngineEvent[]): ThreadState => events.reduce<ThreadState | undefined>((s, e) => reduceThread(s, e), undefined)!;
  const web = async () => {
    const [p] = await liveProcRows(h, "hello", "local");
    return p!;
  };

  it("deploy <app> with its only environment; a ref with + deploys", async () => {
    const first = await h.say("deploy hello");
    expect(first.final?.type, first.text).toBe("deployment.succeeded");
    await repo.commit({ VERSION: "v2\n" });
    await repo.tag("v1.0.0+build.5");
    const tagged = await h.say("deploy hello local v1.0.0+build.5");
    expect(tagged.final?.type, tagged.text).toBe("deployment.succeeded");
    const p = await web();
    expect(await httpGet(p.host, p.port!)).toContain("hello from v2");
    // Issue 11 item 12: the demo says what Raptor runs, from RAPTOR_RELEASE / RAPTOR_APP / RAPTOR_ENV / RAPTOR_PROC.
    expect(await httpGet(p.host, p.port!)).toMatch(new RegExp(`release v\\d+ of hello local \\(${p.name}\\)`));
  }, 120_000);

  it("masks secrets, not words: config set APP_ENV=local DEBUG=true GIT_BRANCH=main", async () => {
    const set = await h.say("config set hello local APP_ENV=local DEBUG=true GIT_BRANCH=main API_TOKEN=tok-123456");
    expect(set.final?.type, set.text).toBe("deployment.succeeded");
    const secret = await h.say("config secret hello local HELLO_PLAIN_LOOKING=opensesame42");
    expect(secret.final?.type, secret.text).toBe("deployment.succeeded");
    const again = await h.say("deploy hello local main");
    expect(again.final?.type, again.text).toBe("deployment.succeeded");
    for (const r of [set, again]) {
      expect(r.text.replaceAll("API_TOKEN=[REDACTED]", "")).not.toContain("[REDACTED]");
      expect(r.text).toContain("hello local");
    }
    // What was asked is repeated with its plain values as typed, the secret one hidden
    // (bot/typed-text.ts: a config set the grammar understood); the change lists them too.
    expect(set.text).toContain("asked: config set hello local APP_ENV=local DEBUG=true GIT_BRANCH=main API_TOKEN=…");
    for (const plain of ["+ APP_ENV=local", "+ DEBUG=true", "+ GIT_BRANCH=main", "+ API_TOKEN=[REDACTED]"]) expect(set.text).toContain(plain);
    expect(secret.text).toContain("HELLO_PLAIN_LOOKING=[REDACTED]");
    expect(again.text).toMatch(/resolve .*\(main → [0-9a-f]{7}\)/);
    const state = thread(again.events);
    expect(state.app).toBe("hello");
    expect(state.env).toBe("local");

    const config = await h.say("config hello local");
    expect(config.text).toContain("APP_ENV=local");
    expect(config.text).toContain("DEBUG=true");
    expect(config.text).toContain("GIT_BRANCH=main");
    expect(config.text).toContain("API_TOKEN=[REDACTED]");
    expect(config.text).toContain("HELLO_PLAIN_LOOKING=[REDACTED]");
    expect(config.text).not.toContain("tok-123456");
    expect(config.text).not.toContain("opensesame42");

    // The Rollback button carries plain names and works when pressed (the last change's thread).
    const cmd = rollbackCommand(thread(secret.events));
    expect(cmd).toMatch(/^rollback hello local v\d+$/);
    const pressed = await h.say(cmd!);
    expect(pressed.final?.type, pressed.text).toBe("deployment.succeeded");
  }, 180_000);

  it("messages that are so: a deploy that changes nothing, the lock's unlock command, plurals", async () => {
    const same = await h.say("deploy hello local main");
    expect(same.final?.type, same.text).toBe("deployment.succeeded");
    expect(same.text).toMatch(/✓ Deploy hello local: nothing changed, v\d+ \([0-9a-f]{7}\) already serves this build and config — took/);
    expect(same.text).not.toContain("to undo");
    expect(same.text).not.toMatch(/\b1 nodes\b|\b1 procs\b|\b0 procs running/);
    // Issue 11 trial: the head of a deploy that changed nothing said "release: v3 → new".
    expect(same.text).not.toContain("→ new");
    // Issue 11 trial: `status` did not show when a timed lock ends.
    await h.say("lock hello local 2h moving racks");
    const status = await h.say("status hello local");
    expect(status.text).toMatch(/hello local: v\d+ — locked by \S+ \(moving racks\) until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(status.text).not.toContain("*hello local*");
    await h.say("unlock hello local");
    // Taken by someone else: the refusal names the whole unlock command; to its holder, it says so.
    await h.say("lock hello local moving racks", { actor: { id: "U_OPS" } });
    const locked = await h.say("deploy hello local");
    expect(locked.reply).toMatchObject({ kind: "refused", code: "lock_held" });
    expect(locked.reply.text).toContain("type `unlock hello local` when the reason is gone");
    const own = await h.say("deploy hello local", { actor: { id: "U_OPS" } });
    expect(own.reply.text).toContain("That is you: `unlock hello local` first.");
    // New-user trial: `deploys` showed this as "`deploy` — refused: lock_held".
    const deploys = await h.say("deploys hello local");
    expect(deploys.text).toMatch(/\d\d:\d\d UTC \(\S+ ago\) \S+: `deploy hello local` — refused: locked by \S+ \(moving racks\)/);
    await h.say("unlock hello local", { actor: { id: "U_OPS" } });
    const scaled = await h.say("scale hello local web=2");
    expect(scaled.final?.type, scaled.text).toBe("deployment.succeeded");
    expect(scaled.text).not.toContain("→ new");
    expect(scaled.text).toMatch(/✓ Scale hello local done, v\d+ serving — took/);
    expect(scaled.text).toContain("(2 nodes)");
  }, 120_000);

  it("refuses early what can be known early", async () => {
    const before = await h.engine.db.query.deployments.findMany();
    const typo = await h.say("scale hello local wbe=2");
    expect(typo.reply).toMatchObject({ kind: "refused", text: "hello has no proc type `wbe`. Did you mean `web`? Its proc types: web." });
    // New-user trial, finding 8: `logs` said "no procs running" and `restart` queued a deployment
    // that failed; every command that names a proc type refuses a wrong one the same way.
    const notAType = "hello has no proc type `worker`. Its proc types: web.";
    const logs = await h.say("logs hello local worker");
    expect(logs.reply).toMatchObject({ kind: "refused", text: notAType });
    const restart = await h.say("restart hello local worker");
    expect(restart.reply).toMatchObject({ kind: "refused", text: notAType });
    expect(restart.final, restart.text).toBeUndefined();
    const scaleWorker = await h.say("scale hello local worker=1");
    expect(scaleWorker.reply).toMatchObject({ kind: "refused", text: notAType });
    expect((await h.say("restart hello local wbe")).reply).toMatchObject({ kind: "refused", text: "hello has no proc type `wbe`. Did you mean `web`? Its proc types: web." });
    const missing = await h.say("rollback hello local v99");
    expect(missing.reply).toMatchObject({ kind: "refused", text: expect.stringContaining("hello local has no release v99.") });
    const off = await h.say("scale hello local web=0");
    expect(off.reply).toMatchObject({ kind: "refused", code: "needs_confirmation", confirm: "scale! hello local web=0" });
    expect(off.reply.text).toContain("takes hello local off its balancer");
    expect(off.reply.text).toContain("`scale! hello local web=0`");
    // Nothing was queued for any of them.
    expect((await h.engine.db.query.deployments.findMany()).length).toBe(before.length);
    const confirmed = await h.say("scale! hello local web=0");
    expect(confirmed.final?.type, confirmed.text).toBe("deployment.succeeded");
    expect(await liveProcRows(h, "hello", "local")).toEqual([]);
    // Nothing runs: a restart has nothing to do, and says what would start something.
    const nothing = await h.say("restart hello local");
    expect(nothing.reply).toMatchObject({ kind: "refused", text: "hello local runs no procs, so there is nothing to restart. `scale hello local web=1` starts one." });
    expect((await h.engine.db.query.deployments.findMany()).length).toBe(before.length + 1);
  }, 120_000);
});

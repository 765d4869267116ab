/**
 * Issue 13 items 1-4 on one test bed: `plan` (shown to change nothing: database rows, the hosts'
 * supervisord programs and the balancer pools compared before and after), `promote` and the
 * `promote_from` rule, the commit range and config diff in a deployment's thread, and the history
 * answers (`releases`, `deploys`, `who deployed`).
 */
import { terminalText } from "../../bot/notify/markup.ts";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor, Authorizer } from "../../bot/dispatch-types.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows, poolNodes, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const READER: Actor = { id: "U_READER" };
/** Allows whoever an access list names: U_TEST (the harness's actor) is UTEST there, U_READER UREADER. */
const byList: Authorizer = { allowed: async (actor, list) => list.includes(actor.id.replace("_", "")) };

describe("plan, promote, diffs and history", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let sql: postgres.Sql;
  const POOLS = ["hello_stage", "hello_prod", "hello_gated"];

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      authorizer: byList,
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: {
            repo: repo.path,
            environments: {
              stage: bedEnv(1, "hello_stage", { uptest_timeout: "10s", env: { GREETING: "hi" } }),
              prod: bedEnv(1, "hello_prod", { uptest_timeout: "10s", env: { GREETING: "hola" }, promote_from: "stage", access: { deploy: ["UTEST"], read: ["UTEST", "UREADER"] } }),
              gated: bedEnv(1, "hello_gated", { approval: { required: true, approvers: ["ULEAD"] }, freeze: ["Mon - Wed", "Thu - Sun"] }),
              gatedprod: bedEnv(1, "hello_gatedprod", { promote_from: "stage", approval: { required: true, approvers: ["ULEAD"] } }),
            },
          },
        }),
      },
    });
    sql = postgres(h.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await h?.close();
    await bed?.stop();
  });

  const ok = async (text: string) => {
    const r = await h.say(text);
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    return r;
  };
  const greeting = async (env: string) => Promise.all((await liveProcRows(h, "hello", env)).map((p) => httpGet(p.host, p.port!, "/env/GREETING")));
  /** The code version each proc of `env` says it runs ("hello from v2 — ..."). */
  const version = async (env: string) => Promise.all((await liveProcRows(h, "hello", env)).map(async (p) => /hello from (\S+)/.exec(await httpGet(p.host, p.port!, "/"))?.[1]));

  /** Every row of every table but the audit log (a plan records that it was asked: checked apart), the bed's programs, the pools. */
  async function snapshot() {
    const tables = (await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'audit_log' order by 1`).map((t) => t.table_name);
    const rows: Record<string, string[]> = {};
    for (const t of tables) rows[t] = (await sql.unsafe(`select * from "${t}"`)).map((r) => JSON.stringify(r)).sort();
    const pools = Object.fromEntries(await Promise.all(POOLS.map(async (p) => [p, await poolNodes(h, "lb", p)] as const)));
    const audit = (await sql<{ n: number }[]>`select count(*)::int as n from audit_log`)[0]!.n;
    return { rows, programs: await supervisedPrograms(bed), pools, audit };
  }

  let c1 = "";
  let c2 = "";

  it("promote_from refuses a plain deploy (and deploy!) of a commit that never served in stage, naming what would have to serve first", async () => {
    c1 = repo.initial;
    await ok("deploy hello stage");
    c2 = await repo.commit({ VERSION: "v2\n" }, "second version <!channel> & more");
    for (const verb of ["deploy", "deploy!"]) {
      // Refused when asked for, before anything is queued (issue 13: it was refused only when it ran).
      const r = await h.say(`${verb} hello prod`);
      expect(r.reply.kind, r.text).toBe("refused");
      expect(r.text).toContain(`hello prod takes only commits that served in stage (playbook \`promote_from: stage\`), and ${c2.slice(0, 7)} has not. No stage release has it: \`deploy hello stage ${c2.slice(0, 7)}\` first. stage serves v1 (${c1.slice(0, 7)}) now: \`promote hello stage prod\` ships that build.`);
    }
    expect(await liveProcRows(h, "hello", "prod")).toEqual([]);
    expect(await sql`select id from deployments where env = 'prod'`).toHaveLength(0);
  }, 120_000);

  it("promote ships stage's very build (no rebuild) with prod's own config", async () => {
    const builds = await sql`select id from builds where status = 'succeeded'`;
    const r = await ok("promote hello stage prod");
    expect(r.text).toContain("promoted build");
    expect(r.text).toContain("from stage v1 (no rebuild)");
    // Its thread is titled for what was asked (new-user trial: it said "Deploy hello prod").
    expect(r.text).toMatch(/▶ Promote hello prod — \S+ asked: promote hello stage prod/);
    expect(r.text).toMatch(/✓ Promote hello prod is now v1/);
    const [stageRel] = await sql`select build_id from releases where app = 'hello' and env = 'stage' and number = 1`;
    const [prodRel] = await sql`select build_id from releases where app = 'hello' and env = 'prod' and number = 1`;
    expect(prodRel!.build_id).toBe(stageRel!.build_id);
    expect((await sql`select id from builds where status = 'succeeded'`).length).toBe(builds.length);
    expect(await version("prod")).toEqual(["v1"]);
    expect(await greeting("prod")).toEqual(["hola"]);
    expect(await greeting("stage")).toEqual(["hi"]);
  }, 120_000);

  it("after c2 serves stage, a plain deploy to prod goes, and its thread shows the commit range, the config diff and what Rollback reverts to", async () => {
    await ok("deploy hello stage");
    await ok("config set hello prod GREETING=hey");
    const r = await ok("deploy hello prod");
    expect(r.text).toContain(`commits ${c1.slice(0, 7)}..${c2.slice(0, 7)}: 1 new commit`);
    expect(r.text).toContain(`+ ${c2.slice(0, 7)} second version <!channel> & more — Raptor Test`);
    expect(r.text).toContain("config:\n      no config changes");
    expect(r.text).toMatch(/to undo: rollback hello prod v2 — reverts to v2 \(commit [0-9a-f]{7}, cut \d+s ago\); config: the same/);
    expect(await version("prod")).toEqual(["v2"]);
  }, 120_000);

  let c3 = "";

  it("promote_from is checked when a deploy is asked for, before anyone is asked to approve it, and again when it runs", async () => {
    // c2 has served stage: the request is taken and waits for approval.
    const asked = await h.say("deploy hello gatedprod", { follow: false });
    expect(asked.reply.kind, asked.text).toBe("deployment");
    const id = (asked.reply as { deploymentId: string }).deploymentId;
    // main moves on before anyone approves: the run resolves main again and refuses c3.
    c3 = await repo.commit({ VERSION: "v3\n" }, "third version");
    const approved = await h.say(`approve ${id}`, { actor: { id: "U_LEAD" }, follow: false });
    expect(approved.reply.kind, approved.text).not.toBe("refused");
    const unpromoted = (env: string, stageServes: string) =>
      `hello ${env} takes only commits that served in stage (playbook \`promote_from: stage\`), and ${c3.slice(0, 7)} has not. No stage release has it: \`deploy hello stage ${c3.slice(0, 7)}\` first. stage serves ${stageServes} now: \`promote hello stage ${env}\` ships that build.`;
    const run = await h.follow(id, (asked.reply as { since?: string }).since);
    expect(run.final?.type, run.text).toBe("deployment.failed");
    // The thread as the terminal prints it (its code spans without backticks).
    expect(run.text).toContain(terminalText(unpromoted("gatedprod", `v2 (${c2.slice(0, 7)})`)));
    // c3 asked for now: refused at once; nobody is asked to approve it, nothing is queued. (By
    // its sha: a read of `main` within 1 s of the last one shares its answer, engine/queues.ts.)
    const refused = await h.say(`deploy hello gatedprod ${c3}`, { follow: false });
    expect(refused.reply.kind, refused.text).toBe("refused");
    expect(refused.text).toContain(unpromoted("gatedprod", `v2 (${c2.slice(0, 7)})`));
    const rows = await sql`select d.status, a.status as approval from deployments d left join approvals a on a.deployment_id = d.id where d.env = 'gatedprod'`;
    expect(rows.map((r) => [r.status, r.approval])).toEqual([["failed", "approved"]]);
  }, 120_000);

  it("plan answers deploy, config set, scale, rollback and promote and changes nothing", async () => {
    const before = await snapshot();

    const deploy = await h.say("plan deploy hello prod");
    expect(deploy.reply.kind, deploy.text).toBe("answer");
    expect(deploy.text).toContain(`v3 (${c2.slice(0, 7)}) → main → ${c3.slice(0, 7)} as a new release`);
    expect(deploy.text).toContain(`commits ${c2.slice(0, 7)}..${c3.slice(0, 7)}: 1 new commit`);
    expect(deploy.text).toContain(`+ ${c3.slice(0, 7)} third version — Raptor Test`);
    expect(deploy.text).toMatch(/procs: 1 start, 1 stop\n {2}\S+: start web:\d+; stop hello-prod-v3-web-\d+/);
    expect(deploy.text).toMatch(/pool hello_prod \(balancer lb\): \+ \S+:\d+; - \S+:\d+/);
    // c3 has not served in stage: promote_from stands in the way.
    expect(deploy.text).toContain(`and ${c3.slice(0, 7)} has not. No stage release has it`);

    const config = await h.say("plan config set hello prod GREETING=howdy API_TOKEN=sekrit-12345");
    expect(config.text).toContain("  + API_TOKEN=[REDACTED]\n  ~ GREETING: hey → howdy");
    expect(config.text).toContain("a new release with this config");
    expect(config.text).not.toContain("sekrit-12345");
    expect(config.text).toContain("nothing in the way.");

    const scale = await h.say("plan scale hello prod web=2");
    expect(scale.text).toMatch(/procs: 1 start, 0 stop\n {2}\S+: start web:\d+\n/);
    expect(scale.text).not.toContain("commits");

    const rollback = await h.say("plan rollback hello prod");
    expect(rollback.text).toContain(`a new release with v2's build and config (${c1.slice(0, 7)})`);
    expect(rollback.text).toContain(`- ${c2.slice(0, 7)} second version <!channel> & more — Raptor Test`);
    // The previous release (v2, the `config set`) has v3's config: no config changes; v1 had prod's playbook value.
    expect(rollback.text).toContain("config:\n  no config changes");
    const toV1 = await h.say("plan rollback hello prod v1");
    expect(toV1.text).toContain("config:\n  ~ GREETING: hey → hola");

    const promote = await h.say("plan promote hello stage prod");
    expect(promote.text).toContain(`stage v2 → ${c2.slice(0, 7)}`);

    // What stands in the way: a lock, the asker's access; approval and freeze on another environment.
    await h.say("lock hello prod testing plans");
    const locked = await h.say("plan deploy hello prod", { actor: READER });
    expect(locked.text).toContain("hello prod is locked by U_TEST (testing plans); `unlock hello prod` first.");
    expect(locked.text).toContain("you may not deploy hello prod. Who may: UTEST.");
    await h.say("unlock hello prod");
    const gated = await h.say("plan deploy hello gated");
    expect(gated.text).toContain("never deployed → main");
    expect(gated.text).toContain('hello gated is frozen');
    expect(gated.text).toContain("`deploy!` skips the freeze window");
    expect(gated.text).toContain("it needs approval from ULEAD");

    // Compared after the lock's own rows are gone again: plans left every row, program and pool as it was.
    const after = await snapshot();
    expect(after.rows).toEqual(before.rows);
    expect(after.programs).toEqual(before.programs);
    expect(after.pools).toEqual(before.pools);
    const added = await sql`select action from audit_log order by id desc limit ${after.audit - before.audit}`;
    expect(added.map((r) => r.action).filter((a) => a !== "lock" && a !== "unlock").every((a) => a === "plan")).toBe(true);
  }, 120_000);

  it("releases, deploys and who deployed answer from the records", async () => {
    const releases = await h.say("releases hello prod");
    const lines = releases.text.split("\n");
    expect(lines.find((l) => l.startsWith("▶ v3"))).toMatch(new RegExp(`by U_TEST: deploy ${c2.slice(0, 7)}; commits ${c1.slice(0, 7)}\\.\\.${c2.slice(0, 7)} — serving \\(d-`));
    expect(lines.find((l) => l.includes(" v2 "))).toMatch(/by U_TEST: set GREETING; commits [0-9a-f]{7}; config GREETING — served, replaced later/);
    expect(lines.find((l) => l.includes(" v1 "))).toContain(`promote stage v1 (${c1.slice(0, 7)})`);

    const deploys = await h.say("deploys hello prod since 1h");
    expect(deploys.text).toMatch(/U_TEST: `deploy hello prod` — succeeded, v3 \(d-/);
    expect(deploys.text).toMatch(/U_TEST: `promote hello stage prod` — succeeded, v1 \(d-/);
    // Refused when asked for (issue 13): never queued, so no deployment id.
    expect(deploys.text).toMatch(/U_TEST: `deploy! hello prod` — refused: hello prod takes only commits that served in stage \(playbook `promote_from: stage`\), and [0-9a-f]{7} has not$/m);
    expect(deploys.text).not.toContain("plan");

    const who = await h.say("who deployed hello prod");
    expect(who.text).toMatch(new RegExp(`hello prod serves v3, put in place by U_TEST \\(\`deploy hello prod\`\\) — v3 \\(${c2.slice(0, 7)}\\)`));
    expect(who.text).toContain("before that:");
  }, 60_000);
});

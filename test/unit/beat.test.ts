import { describe, expect, it } from "vitest";
import { describeFinding, diagnose, type FleetView } from "../../engine/beat/diagnose.ts";
import { findOrphans } from "../../engine/beat/orphans.ts";
import { hostDownText } from "../../engine/beat/hosts.ts";
import { parsePs, portHolders } from "../../engine/beat/port-owners.ts";
import { nextRunOf, scheduledJobs } from "../../engine/beat/schedule.ts";
import { maintenanceJobId } from "../../engine/queues.ts";
import { formatIssue, parsePlaybookFiles } from "../../playbooks/load.ts";
import { DEFAULT_BEAT } from "../../playbooks/schema/beat.ts";
import type { ProcessInfo } from "../../runners/supervisor/types.ts";

const BASE = `squads:
  s: { hosts: [a], transport: local }
apps:
  hello:
    repo: /tmp/hello
    environments:
      prod: { squad: s }
`;

function load(beat: string) {
  return parsePlaybookFiles([
    { path: "pb.yaml", text: BASE },
    { path: "beat.yaml", text: beat },
  ]);
}
function issues(beat: string): string[] {
  const r = load(beat);
  if (r.ok) throw new Error("loaded");
  return r.issues.map(formatIssue);
}

describe("the playbook's beat: section", () => {
  it("defaults every job but digest when absent", () => {
    const r = parsePlaybookFiles([{ path: "pb.yaml", text: BASE }]);
    expect(r.ok && r.playbook.beat).toEqual(DEFAULT_BEAT);
    expect(r.ok && r.playbook.beat.digest).toBeUndefined();
  });

  it("takes a schedule string or a mapping with the job's own keys, seconds allowed", () => {
    const r = load(`beat:
  reconcile: "*/30 * * * * *"
  orphans: { schedule: "*/5 * * * *", grace: 10m }
  hosts: "*/1 * * * *"
  expire: { schedule: "*/10 * * * * *", stuck_after: 90m }
`);
    expect(r.ok && r.playbook.beat).toEqual({
      ...DEFAULT_BEAT,
      reconcile: { schedule: "*/30 * * * * *" },
      orphans: { schedule: "*/5 * * * *", grace_ms: 600_000 },
      hosts: { schedule: "*/1 * * * *" },
      expire: { schedule: "*/10 * * * * *", stuck_after_ms: 5_400_000 },
    });
  });

  it("takes prune and digest with their own keys; prune defaults to 03:00 daily keeping 5 builds", () => {
    const r = load(`beat:
  prune: { schedule: "0 4 * * *", keep_builds: 3 }
  digest: { schedule: "0 9 * * 1-5", channel: "#deploys" }
`);
    expect(r.ok && r.playbook.beat.prune).toEqual({ schedule: "0 4 * * *", keep_builds: 3 });
    expect(r.ok && r.playbook.beat.digest).toEqual({ schedule: "0 9 * * 1-5", channel: "#deploys" });
    const d = load(`beat:\n  prune: "0 5 * * *"\n`);
    expect(d.ok && d.playbook.beat.prune).toEqual({ schedule: "0 5 * * *", keep_builds: 5 });
    expect(DEFAULT_BEAT.prune).toEqual({ schedule: "0 3 * * *", keep_builds: 5 });
  });

  it.each([
    ['beat:\n  prune: { schedule: "0 3 * * *", keep_builds: 0 }\n', "beat.yaml:2: must be a whole number of builds, at least 1"],
    ['beat:\n  digest: { schedule: "0 9 * * *" }\n', 'beat.yaml:2: the digest needs the channel it is posted to, e.g. channel: "#deploys"'],
    ['beat:\n  digest: { schedule: "0 9 * * *", channel: "deploys" }\n', 'beat.yaml:2: "deploys" is not a channel: write a name like "#deploys" (quoted: a bare # starts a YAML comment) or a channel id like C0123ABCD'],
    ['beat:\n  reconcile: "every day"\n', 'beat.yaml:2: "every day" is not a cron schedule (expected 5 or 6 fields but got 2); write five fields "m h dom mon dow", or six with seconds first'],
    ['beat:\n  hosts: "61 * * * *"\n', 'beat.yaml:2: "61 * * * *" is not a cron schedule (minute: 61 is a invalid expression for minute); write five fields "m h dom mon dow", or six with seconds first'],
    ['beat:\n  orphans:\n    schedule: "* * *"\n    grace: 10m\n', 'beat.yaml:3: "* * *" is not a cron schedule (expected 5 or 6 fields but got 3); write five fields "m h dom mon dow", or six with seconds first'],
    ["beat:\n  orphans: { schedule: \"*/5 * * * *\", grace: soon }\n", "beat.yaml:2: must be a duration like 10m, 90s or 2h"],
    ['beat:\n  reconcil: "* * * * *"\n', 'beat.yaml:2: unknown beat job "reconcil"; the jobs are reconcile, orphans, hosts, prune, expire, digest. Did you mean `reconcile`?'],
    ['beat:\n  hosts: { schedule: "* * * * *", grace: 1m }\n', 'beat.yaml:2: unknown key "grace" for the hosts job (it takes schedule).'],
    ["beat:\n  hosts: 5\n", 'beat.yaml:2: must be a cron schedule string or a mapping with "schedule"'],
    ["beat:\n  expire: { stuck_after: 1h }\n", "beat.yaml:2: the expire job needs a schedule (a node-cron expression string)"],
  ])("refuses %j with file:line and the reason", (beat, message) => {
    expect(issues(beat)).toEqual([message]);
  });

  it("refuses a job scheduled in two files, naming the other", () => {
    const r = parsePlaybookFiles([
      { path: "pb.yaml", text: `${BASE}beat:\n  hosts: "* * * * *"\n` },
      { path: "beat.yaml", text: 'beat:\n  hosts: "*/2 * * * *"\n' },
    ]);
    expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual(['beat.yaml:2: beat job "hosts" is scheduled twice: here and at pb.yaml:9']);
  });
});

describe("scheduling", () => {
  it("schedules every job, digest only when configured", () => {
    expect(scheduledJobs(DEFAULT_BEAT).map((j) => j.job)).toEqual(["reconcile", "orphans", "hosts", "prune", "expire"]);
    expect(scheduledJobs({ ...DEFAULT_BEAT, digest: { schedule: "0 9 * * 1-5", channel: "#deploys" } }).map((j) => j.job)).toEqual(["reconcile", "orphans", "hosts", "prune", "expire", "digest"]);
  });
  it("knows a schedule's next time (node-cron's matcher)", () => {
    const next = nextRunOf("0 3 * * *")!;
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
  });
  it("names a tick's job after the job and its scheduled time, without ':' (BullMQ refuses it)", () => {
    expect(maintenanceJobId("reconcile", new Date("2026-11-29T21:05:30.000Z"))).toBe("reconcile@20261129T210530Z");
  });
});

const P = (id: string, host: string, port: number | null, releaseId = "r2", procType = "web") => ({ id, name: `hello-prod-v2-${procType}-${port ?? "w0"}`, host, port, procType, releaseId });

describe("diagnose: what keeps an environment from its swarms (pure)", () => {
  const base = (over: Partial<FleetView> = {}): FleetView => ({
    live: [P("1", "a", 5000), P("2", "b", 5000)],
    servingReleaseId: "r2",
    sizes: { web: 2 },
    downHosts: new Set(),
    supervised: new Map([
      ["a", new Map([["hello-prod-v2-web-5000", "RUNNING" as const]])],
      ["b", new Map([["hello-prod-v2-web-5000", "RUNNING" as const]])],
    ]),
    poolNodes: ["a:5000", "b:5000"],
    ourNodes: new Set(["a:5000", "b:5000", "c:5000"]),
    ...over,
  });
  it("finds nothing when supervisord and the pool agree with the swarm", () => {
    expect(diagnose(base())).toEqual([]);
  });
  it.each(["FATAL", "EXITED", "BACKOFF", "STOPPED"] as const)("a %s proc is crashed", (state) => {
    const programs = (st: ProcessInfo["statename"]) => new Map<string, ProcessInfo["statename"]>([["hello-prod-v2-web-5000", st]]);
    const v = base({ supervised: new Map([["a", programs(state)], ["b", programs("RUNNING")]]) });
    expect(diagnose(v).map(describeFinding)).toEqual([`hello-prod-v2-web-5000 on a is ${state}`]);
  });
  it("a proc supervisord does not know is crashed (MISSING); an unread host is not judged", () => {
    const v = base({ supervised: new Map([["a", new Map()]]) });
    expect(diagnose(v).map(describeFinding)).toEqual(["hello-prod-v2-web-5000 on a is MISSING"]);
  });
  it("procs on a down host are lost, the swarm is short, and their nodes are strays", () => {
    const v = base({ downHosts: new Set(["b"]) });
    expect(diagnose(v).map(describeFinding)).toEqual(["hello-prod-v2-web-5000 was on b, which is down", "1 web proc short of the swarm", "b:5000 is in the pool with no proc behind it"]);
  });
  it("a node of ours with no proc is a stray; a node never ours is left alone; a healthy proc out of the pool is unrouted", () => {
    const v = base({ poolNodes: ["a:5000", "c:5000", "x:1"] });
    expect(diagnose(v).map(describeFinding)).toEqual(["hello-prod-v2-web-5000 (b:5000) is not in the pool", "c:5000 is in the pool with no proc behind it"]);
  });
  it("a live proc of another release is stale", () => {
    const v = base({ live: [P("1", "a", 5000), P("2", "b", 5000), { ...P("3", "a", 5001, "r1"), name: "hello-prod-v1-web-5001" }] });
    expect(diagnose(v).map((f) => f.kind)).toEqual(["stale"]);
  });
});

describe("findOrphans (pure)", () => {
  it("picks programs named like a proc with no live proc; other names are never touched", () => {
    const programs = [
      { name: "hello-prod-v2-web-5000", group: "hello-prod-v2-web-5000" },
      { name: "hello-prod-v1-web-5001", group: "hello-prod-v1-web-5001" },
      { name: "handmade", group: "handmade" },
      { name: "cron-prod-job", group: "cron-prod-job" },
      { name: "hello-prod-v3-web-5002", group: "workers" },
    ];
    expect(findOrphans("a", programs, new Set(["hello-prod-v2-web-5000"]))).toEqual([{ host: "a", name: "hello-prod-v1-web-5001" }]);
  });
});

describe("who holds a proc's port (pure)", () => {
  const output = [
    'LISTEN 0      511    127.0.0.2:5000 0.0.0.0:* users:(("node",pid=300,fd=18))',
    'LISTEN 0      511    127.0.0.2:5001 0.0.0.0:* users:(("node",pid=410,fd=18))',
    'LISTEN 0      511    127.0.0.3:5001 0.0.0.0:* users:(("node",pid=999,fd=18))',
    'LISTEN 0      511    127.0.0.2:5002 0.0.0.0:* users:(("nginx",pid=501,fd=6),("nginx",pid=502,fd=6))',
    "LISTEN 0      511    127.0.0.2:5003 0.0.0.0:*",
    "---",
    "    1     0     1     0",
    "  200     1   200     0",
    "  300   200   200   999",
    "  410     1   400   999",
    "  500     1   500     0",
    "  501   500   500    33",
    "  502   500   500    33",
    "  999     1   999   999",
  ].join("\n");
  it("attributes each listener of the host to the supervisord program whose tree holds it, or to none", () => {
    const holders = portHolders(output, "127.0.0.2", [
      { name: "hello-prod-v2-web-5000", pid: 200 },
      { name: "hello-prod-v2-web-5001", pid: 420 },
      { name: "stopped", pid: 0 },
    ]);
    expect(Object.fromEntries(holders)).toEqual({
      5000: { pid: 300, pgid: 200, uid: 999, program: "hello-prod-v2-web-5000" },
      // 410's launcher (400) died: it is outside every program, and its group's leader is gone.
      5001: { pid: 410, pgid: 400, uid: 999 },
      5002: { pid: 501, pgid: 500, uid: 33 },
    });
  });
  it("parses ps and survives a garbled table", () => {
    expect(parsePs("  12  1  12  0\nnot a row\n 13 12 12\n")).toEqual(new Map([[12, { pid: 12, ppid: 1, pgid: 12, uid: 0 }]]));
  });
});

describe("diagnose: a port held outside the proc's program", () => {
  const view = (holder: { pid: number; pgid: number; uid: number; program?: string }): FleetView => ({
    live: [P("1", "a", 5000)],
    servingReleaseId: "r2",
    sizes: { web: 1 },
    downHosts: new Set(),
    supervised: new Map([["a", new Map([["hello-prod-v2-web-5000", "RUNNING" as const]])]]),
    poolNodes: ["a:5000"],
    ourNodes: new Set(["a:5000"]),
    portHolders: new Map([["a", new Map([[5000, holder]])]]),
  });
  it("its own program holding it is healthy", () => {
    expect(diagnose(view({ pid: 7, pgid: 6, uid: 999, program: "hello-prod-v2-web-5000" }))).toEqual([]);
  });
  it.each([
    [{ pid: 7, pgid: 6, uid: 999 }, "hello-prod-v2-web-5000 on a: port 5000 is held by pid 7, outside its supervisord program (left over from an earlier run)"],
    [{ pid: 7, pgid: 6, uid: 999, program: "other-prod-v1-web-5009" }, "hello-prod-v2-web-5000 on a: port 5000 is held by other-prod-v1-web-5009"],
  ])("RUNNING but its port held by %j is a finding, even though an uptest would pass", (holder, text) => {
    expect(diagnose(view(holder)).map(describeFinding)).toEqual([text]);
  });
});

describe("hostDownText: what a host going down means for its procs", () => {
  const rows: [string, number, string[], string][] = [
    ["procs on a squad with other hosts are replaced there", 3, ["h1", "h2"], "host h1 is down (ssh: refused). Its 3 procs will be replaced on the other hosts of web; no new procs go there until it is back."],
    // New-user trial: the demo's one-host squad was told its procs would move "to the other hosts".
    ["a squad of one host has nowhere to move them", 1, ["h1"], "host h1 is down (ssh: refused). web has no other host, so its 1 proc cannot be replaced until it is back."],
    ["no procs there", 0, ["h1"], "host h1 is down (ssh: refused). No new procs go there until it is back."],
  ];
  for (const [name, count, hosts, want] of rows) it(name, () => expect(hostDownText("h1", "ssh: refused", count, { name: "web", hosts })).toBe(want));
});

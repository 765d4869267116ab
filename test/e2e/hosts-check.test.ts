import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { liveProcRows, supervisedPrograms } from "../support/fleet-probe.ts";
import { bedEnv, localSquadLines, playbookYaml } from "../support/playbook-yaml.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { answerQuery } from "../../bot/answers/index.ts";
import { Queues } from "../../engine/queues.ts";
import { hostsJob } from "../../engine/beat/hosts.ts";
import { reconcileJob } from "../../engine/beat/reconcile.ts";
import { allHosts } from "../../db/queries/hosts.ts";

/**
 * Hosts that are not ready, and `hosts check` saying so with the fix: a host whose sshd has no sftp
 * subsystem (uploads still work, through exec), one whose supervisord does not include Raptor's
 * program files, and squads with a wrong supervisord password, an unknown host key, a root that
 * cannot be written, and a port range another program holds.
 */
describe("hosts check and start on hosts that are not ready", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  let squatter: ChildProcess | undefined;
  const [A, NOSFTP, NOINCLUDE] = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 3, quirks: { 1: { sftp: false }, 2: { include: false } } });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    const emptyKnownHosts = join(bed.dir, "client", "empty_known_hosts");
    await writeFile(emptyKnownHosts, "");
    const only = (name: string, host: string, o: { ports?: string } = {}) => bed.squadYaml(name, { hosts: [host], ...o });
    const tightPort = bed.appPorts.from + 90;
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml(
          [
            bed.squadYaml("bed", { ports: `${bed.appPorts.from}-${bed.appPorts.from + 49}` }),
            only("nosftp", NOSFTP),
            only("noinclude", NOINCLUDE),
            // The machine badpass names wrongly, named rightly by a squad of its own (red team M3).
            only("shared", A, { ports: `${bed.appPorts.from + 50}-${bed.appPorts.from + 59}` }),
            only("badpass", A).replace(/password: "[^"]*"/, 'password: "not-the-password"'),
            only("badkeys", A).replace(/known_hosts: "[^"]*"/, `known_hosts: ${JSON.stringify(emptyKnownHosts)}`),
            only("badroot", A).replace(/root: "[^"]*"/, 'root: "/dev/null/raptor"'),
            only("tight", A, { ports: `${tightPort}-${tightPort}` }),
            `${only("nouser", A)}\n    user: raptor-missing-user`,
            // The same host reached without SSH (transport: local), as `make run` reaches its demo host.
            localSquadLines(bed, bed.hosts[0]!).slice(1, 7).join("\n"),
          ],
          {
            hello: {
              repo: repo.path,
              environments: {
                nosftp: bedEnv(1, "hello_nosftp", { squad: "nosftp", uptest_timeout: "6s" }),
                noinclude: bedEnv(1, "hello_noinclude", { squad: "noinclude", uptest_timeout: "6s" }),
                badpass: bedEnv(1, "hello_badpass", { squad: "badpass", uptest_timeout: "6s" }),
                shared: bedEnv(1, "hello_shared", { squad: "shared", uptest_timeout: "20s" }),
              },
            },
          },
        ),
      },
    });
    // Another program holds the tight squad's only port.
    squatter = spawn("python3", ["-m", "http.server", String(tightPort), "--bind", A], { stdio: "ignore" });
    for (let i = 0; i < 200 && !(await accepts(A, tightPort)); i++) await new Promise((r) => setTimeout(r, 25));
  }, 120_000);
  afterAll(async () => {
    squatter?.kill("SIGKILL");
    await h?.close();
    await bed?.stop();
  });

  function accepts(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host, port });
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
  }
  /** The lines `hosts check` gives for one host: its summary line and its problems. */
  function hostLines(text: string, host: string): string {
    const lines = text.split("\n");
    const i = lines.findIndex((l) => l.startsWith(`  ${host}:`));
    if (i < 0) return "";
    const out = [lines[i]!];
    for (const l of lines.slice(i + 1)) {
      if (!l.startsWith("    ")) break;
      out.push(l);
    }
    return out.join("\n");
  }

  // Issue 11 trial: `hosts check` said "✓ ssh" for a squad reached with transport: local.
  it("`hosts check here`: a local squad's first check is named local, not ssh", async () => {
    const r = await h.say("hosts check here");
    expect(r.reply.kind, r.text).toBe("answer");
    const line = hostLines(r.text, bed.hosts[0]!.name).split("\n")[0]!;
    expect(line, r.text).toMatch(/ — ✓ local {2}✓ root /);
    expect(r.text).not.toMatch(/\bssh\b/);
  });

  // Issue 7 item 6: the bot holds no host credentials. `hosts check` reached hosts over SSH from
  // the bot's own process; a worker runs it now, and a host no worker answered for is named.
  it("`hosts check` is run by a worker: when none answers, each host says it did not, in time", async () => {
    // A queue prefix no worker listens on stands for every worker being down or busy.
    const queues = new Queues(h.engine.redisUrl, `${h.engine.prefix}noworker:`);
    const deps = { ...h.engine, queues, options: { ...h.engine.options, liveReadTimeoutMs: 100 } };
    try {
      const r = await answerQuery(deps, { kind: "hosts", squad: "badpass", check: true });
      const text = (r as { text: string }).text;
      expect(hostLines(text, A), text).toBe(
        [`  ${A}: not ready (1 problem) — ✗ worker`, `    ✗ worker: ${A} did not answer in 1.2s`, "      fix: start a worker (`raptor worker` or `raptor all`) that can reach this host"].join("\n"),
      );
    } finally {
      await queues.close();
    }
  });

  it("`hosts check bed`: a ready host, a host without SFTP (works, with a warning and its fix), a supervisord without Raptor's include (with its fix)", async () => {
    const r = await h.say("hosts check bed");
    expect(r.reply.kind, r.text).toBe("answer");
    const ready = hostLines(r.text, A);
    // Ports may warn: a proc another test bed left behind on this address can hold one (and is then named).
    expect(ready).toMatch(/ready — ✓ ssh {2}✓ root {2}✓ upload {2}✓ supervisord {2}✓ include {2}[✓!] ports {2}✓ proc user$/m);

    const noSftp = hostLines(r.text, NOSFTP);
    expect(noSftp, r.text).toContain(`${NOSFTP}: ready`);
    expect(noSftp).toContain(`! upload: sshd on ${NOSFTP} has no sftp subsystem; uploads go through an SSH exec channel instead`);
    expect(noSftp).toContain("fix: to use SFTP, add `Subsystem sftp internal-sftp` to sshd_config");

    const noInclude = hostLines(r.text, NOINCLUDE);
    expect(noInclude, r.text).toContain(`${NOINCLUDE}: not ready (1 problem)`);
    expect(noInclude).toContain(`✗ include: supervisord on ${NOINCLUDE} does not read Raptor's program files (${bed.hosts[2]!.root}/supervisor/*.conf)`);
    expect(noInclude).toContain(`fix: add \`[include]\` with \`files = ${bed.hosts[2]!.root}/supervisor/*.conf\` to supervisord.conf on ${NOINCLUDE}, then run \`supervisorctl update\``);
    // The check leaves nothing behind: no probe program, no probe files.
    expect(await supervisedPrograms(bed)).toEqual([]);
  }, 60_000);

  it("a wrong supervisord password, an unknown host key, a root that cannot be written, a range another program holds: each named with its fix", async () => {
    const pass = hostLines((await h.say("hosts check badpass")).text, A);
    expect(pass).toContain("✗ supervisord: supervisord at http://127.0.0.2:");
    expect(pass).toContain("refused our username/password (HTTP 401)");
    expect(pass).toContain("fix: set the squad's supervisor.username and password to the ones in [inet_http_server]");
    expect(pass).not.toContain("not-the-password");

    const keys = hostLines((await h.say("hosts check badkeys")).text, A);
    expect(keys).toContain(`✗ ssh: ${A}: host key for ${A}:${bed.hosts[0]!.sshPort} is not in`);
    expect(keys).toContain(`fix: add it (\`ssh-keyscan -p ${bed.hosts[0]!.sshPort} ${A} >>`);
    expect(keys).toContain("– root: needs ssh");

    const root = hostLines((await h.say("hosts check badroot")).text, A);
    expect(root).toContain(`✗ root: cannot write under /dev/null/raptor on ${A}`);
    expect(root).toContain("fix: create /dev/null/raptor on");

    const tight = hostLines((await h.say("hosts check tight")).text, A);
    expect(tight).toContain(`✗ ports: no free port in ${bed.appPorts.from + 90}-${bed.appPorts.from + 90} (0 leased to Raptor, 1 held by other programs)`);
    expect(tight).toContain("fix: widen the squad's ports");

    const user = hostLines((await h.say("hosts check nouser")).text, A);
    expect(user).toContain(`✗ proc user: the user \`raptor-missing-user\` that procs run as does not exist on ${A}`);
    expect(user).toContain("fix: create it on");
  }, 60_000);

  it("deploys to a host whose sshd has no sftp subsystem (uploads through exec)", async () => {
    const r = await h.say("deploy hello nosftp");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const [p] = await liveProcRows(h, "hello", "nosftp");
    expect(await httpGet(p!.host, p!.port!)).toContain("hello from v1");
  }, 60_000);

  it("`start` on a supervisord without Raptor's include says so, with the fix, not a bare BAD_NAME", async () => {
    const r = await h.say("deploy hello noinclude");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    if (r.final?.type !== "deployment.failed") return;
    expect(r.final.step).toBe("start");
    expect(r.final.message).toContain(`supervisord on ${NOINCLUDE} does not read Raptor's program files`);
    expect(r.final.message).toContain("Fix: add `[include]` with `files = ");
    expect(await liveProcRows(h, "hello", "noinclude")).toEqual([]);
  }, 60_000);

  it("`start` with a wrong supervisord password says so, with the same fix as `hosts check`", async () => {
    const r = await h.say("deploy hello badpass");
    expect(r.final?.type, r.text).toBe("deployment.failed");
    if (r.final?.type !== "deployment.failed") return;
    expect(r.final.step).toBe("start");
    expect(r.final.code).toBe("supervisor_failed");
    expect(r.final.message).toContain("refused our username/password (HTTP 401)");
    expect(r.final.message).toContain("Fix: set the squad's supervisor.username and password to the ones in [inet_http_server] of supervisord.conf on 127.0.0.2");
    expect(r.text).not.toContain("not-the-password");
    expect(await liveProcRows(h, "hello", "badpass")).toEqual([]);
  }, 60_000);

  // Red team M3: squads `shared` (right password) and `badpass` (wrong one) name the same machine.
  // They shared one hosts row: the beat's hosts job found it up for shared, then down for badpass;
  // reconcile then marked shared's serving proc failed, and shared's next deploy failed no_hosts.
  // The beat runs over these two squads alone, in this order, as the red team's playbook had them.
  it("a wrong supervisord password in one squad leaves another squad on the same host up, its procs serving, its deploys working", async () => {
    const first = await h.say("deploy hello shared");
    expect(first.final?.type, first.text).toBe("deployment.succeeded");
    const [p] = await liveProcRows(h, "hello", "shared");
    const pb = h.engine.playbook;
    const deps = {
      ...h.engine,
      playbook: { ...pb, squads: { shared: pb.squads.shared!, badpass: pb.squads.badpass! }, apps: { hello: { ...pb.apps.hello!, environments: { shared: pb.apps.hello!.environments.shared! } } } },
    };
    await hostsJob(deps, { scheduledFor: new Date() });
    const reconciled = await reconcileJob(deps, { scheduledFor: new Date() });
    // Before: a repair found the proc "lost" on a down host, marked it failed and could place none.
    const repairs = reconciled.detail.repairs as { deploymentId: string; findings: string[] }[];
    for (const r of repairs) await h.follow(r.deploymentId);
    const after = await liveProcRows(h, "hello", "shared");
    expect(after.map((r) => `${r.name}:${r.status}`)).toEqual([`${p!.name}:${p!.status}`]);
    expect(repairs.flatMap((r) => r.findings)).toEqual([]);
    expect(await httpGet(p!.host, p!.port!)).toContain("hello from v1");
    const rows = (await allHosts(h.engine.db)).filter((r) => r.name === A && ["shared", "badpass"].includes(r.squad));
    expect(rows.map((r) => `${r.squad}:${r.state}`).sort()).toEqual(["badpass:down", "shared:up"]);

    expect(hostLines((await h.say("hosts shared")).text, A)).not.toContain("down");
    expect(hostLines((await h.say("hosts badpass")).text, A)).toContain("down");
    const again = await h.say("restart hello shared");
    expect(again.final?.type, again.text).toBe("deployment.succeeded");
  }, 120_000);
});

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { asNobody } from "../support/as-nobody.ts";

const exec = promisify(execFile);
const SECRET = "proc-env-secret-8d1f";
/** A fresh app name per run, so its user (which Raptor creates) is missing at the start and removed at the end. */
const EVIL = `evil${randomBytes(3).toString("hex")}`;
/** What app `evil` prints of its secret loot, reversed so the redactor's known-secret masking cannot hide a leak. */
const REVERSED = [...SECRET].reverse().join("");
/**
 * App `evil`'s web proc, before it serves: reads every other proc's env file on the host and every
 * process's environment, and prints whatever it got (reversed) into its own log, as the red team did.
 */
const STEAL = `#!/bin/sh
for f in ../*/.raptor/env ../*/proc.yaml; do cat -- "$f" 2>&1 | rev; done
for p in /proc/[0-9]*; do tr '\\0' '\\n' < "$p/environ" 2>/dev/null | grep '^API_TOKEN=' | rev; done
echo "steal done as $(id -un)"
exec node server.js
`;

/** The pids whose working directory is `dir` (the proc's processes), with their real uid. */
async function processesIn(dir: string): Promise<{ pid: number; uid: number }[]> {
  const out: { pid: number; uid: number }[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if ((await readlink(`/proc/${pid}/cwd`)) !== dir) continue;
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      out.push({ pid: Number(pid), uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

describe("procs run as the squad's unprivileged user, and app files cannot redirect Raptor's writes", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let evil: AppRepo;
  let h: Harness;
  let decoy: string;

  beforeAll(async () => {
    bed = await startTestbed({ hosts: 1 });
    decoy = await mkdtemp(join(tmpdir(), "raptor-decoy-"));
    await writeFile(join(decoy, "victim"), "untouched\n");
    // The app's build plants links where Raptor writes on the host: its .raptor dir and proc.yaml.
    repo = await makeAppRepo(HELLO_APP, {
      VERSION: "v1\n",
      "bin/compile": `#!/bin/sh\ncd "$1" && ln -s ${decoy} .raptor && ln -s ${decoy}/victim proc.yaml && echo planted\n`,
    });
    evil = await makeAppRepo(HELLO_APP, { VERSION: "evil\n", Procfile: "web: sh ./steal.sh\n", "steal.sh": STEAL });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { prod: bedEnv(1, "hello_prod", { env: { API_TOKEN: SECRET } }) } },
          [EVIL]: { repo: evil.path, environments: { prod: bedEnv(1, "evil_prod") } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
    await rm(decoy, { recursive: true, force: true });
    await rm(repo.path, { recursive: true, force: true });
    await rm(evil.path, { recursive: true, force: true });
    await exec("userdel", [`raptor-${EVIL}`]).catch(() => undefined);
  });

  it("deploys; the proc's processes run as the app's own user raptor-hello (not uid 0); another user reads neither its env file nor the logs", async () => {
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const [row] = await liveProcRows(h, "hello", "prod");
    expect(await httpGet(row!.host, row!.port!)).toContain("v1");

    const appUid = Number((await exec("id", ["-u", "raptor-hello"])).stdout.trim());
    const root = bed.hosts[0]!.root;
    const dir = join(root, "procs", row!.name);
    const procs = await processesIn(dir);
    expect(procs.length).toBeGreaterThan(0);
    for (const p of procs) expect(p.uid).toBe(appUid);

    // Raptor's files are real files in a real .raptor dir, owned by the proc's user, 0600.
    const envFile = join(dir, ".raptor", "env");
    const st = await stat(envFile);
    expect(st.uid).toBe(appUid);
    expect(st.mode & 0o777).toBe(0o600);
    expect(await readFile(envFile, "utf8")).toContain(SECRET);
    // The planted links sent nothing anywhere: the decoy holds only what it held.
    expect(await readdir(decoy)).toEqual(["victim"]);
    expect(await readFile(join(decoy, "victim"), "utf8")).toBe("untouched\n");

    // Another app's user: no env file, no proc dir, no logs, no program files.
    for (const target of [envFile, join(dir, "proc.yaml"), join(root, "logs", `${row!.name}.log`), join(root, "supervisor", `${row!.name}.conf`)]) {
      expect(existsSync(target)).toBe(true);
      const r2 = await asNobody(["cat", "--", target]);
      expect(r2.code, target).not.toBe(0);
      expect(r2.out).toContain("Permission denied");
      expect(r2.out).not.toContain(SECRET);
    }
    expect((await asNobody(["ls", join(root, "logs")])).code).not.toBe(0);
  });

  it("app evil (a fresh name) on the same squad runs as another user and reads nothing of hello: not its env file, not its processes' environment, and `logs evil` shows none of it", async () => {
    // hello serves with its API_TOKEN (deployed by the test above, or here when run alone).
    if ((await liveProcRows(h, "hello", "prod")).length === 0) expect((await h.say("deploy hello prod")).final?.type).toBe("deployment.succeeded");
    // `hosts check` says the app's user is not there yet, and that Raptor makes it.
    const check = (await h.say("hosts check bed")).text;
    expect(check).toContain(`! proc user: procs run as each app's own user; not yet on ${bed.hosts[0]!.name}: raptor-${EVIL} (app ${EVIL})`);
    expect(check).toContain("fix: nothing to do: Raptor creates an app's user when the app first starts on this host");

    const r = await h.say(`deploy ${EVIL} prod`);
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    expect((await h.say("hosts check bed")).text).toMatch(new RegExp(`ready — .*✓ proc user$`, "m"));
    const [mine] = await liveProcRows(h, EVIL, "prod");
    const [theirs] = await liveProcRows(h, "hello", "prod");
    const root = bed.hosts[0]!.root;
    const uidOf = async (name: string) => (await processesIn(join(root, "procs", name)))[0]?.uid;
    expect(await uidOf(mine!.name)).not.toBe(await uidOf(theirs!.name));

    // The proc printed what it could read before serving; its log says so, with nothing of hello's.
    let logs = "";
    for (const until = Date.now() + 10_000; !logs.includes("steal done") && Date.now() < until; ) logs = (await h.say(`logs ${EVIL} prod web 200`)).text;
    expect(logs).toContain(`steal done as raptor-${EVIL}`);
    expect(logs).not.toContain(REVERSED);
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain("[REDACTED]");
    // The file evidence too: the log on the host (root's), not only what chat shows.
    const onHost = await readFile(join(root, "logs", `${mine!.name}.log`), "utf8");
    expect(onHost).toContain("steal done");
    expect(onHost).not.toContain(REVERSED);
    expect(onHost).toContain("Permission denied");
  });
});

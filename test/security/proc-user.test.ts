import { execFile } from "node:child_process";
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

const exec = promisify(execFile);
const SECRET = "proc-env-secret-8d1f";

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

/** Runs argv as `nobody` (another app's user, for the test): exit code and output. */
async function asNobody(argv: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec("setpriv", ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--", ...argv]);
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("procs run as the squad's unprivileged user, and app files cannot redirect Raptor's writes", () => {
  let bed: Testbed;
  let repo: AppRepo;
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
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: { repo: repo.path, environments: { prod: bedEnv(1, "hello_prod", { env: { API_TOKEN: SECRET } }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
    await rm(decoy, { recursive: true, force: true });
    await rm(repo.path, { recursive: true, force: true });
  });

  it("deploys; the proc's processes run as raptor-app (not uid 0); another user reads neither its env file nor the logs", async () => {
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const [row] = await liveProcRows(h, "hello", "prod");
    expect(await httpGet(row!.host, row!.port!)).toContain("v1");

    const appUid = Number((await exec("id", ["-u", "raptor-app"])).stdout.trim());
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
});

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { liveProcRows } from "../support/fleet-probe.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const exec = promisify(execFile);
/** A fresh app name per run, so its user (which Raptor creates) is removed at the end. */
const APP = `envp${randomBytes(3).toString("hex")}`;
/**
 * Planted in this process's environment before the bed starts: the bed's supervisord and sshd and
 * Raptor itself (the harness runs in this process) all hold it, as a host's supervisord started
 * from an operator's shell holds RAPTOR_SECRET_KEY.
 */
const PLANTED_KEY = "RAPTOR_TEST_PLANTED_SECRET";
const PLANTED = `planted-${randomBytes(8).toString("hex")}`;
/** The variables a proc, uptest or release hook has besides its env file's (docs/security.md). */
const BASE_KEYS = ["PATH", "LANG", "HOME", "USER", "LOGNAME", "PWD"];

/** `env` output (single-line values) as a record. */
function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The keys of the proc's env file (`export KEY=...` lines, written by Raptor). */
function envFileKeys(text: string): string[] {
  return [...text.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!);
}

describe("a proc's environment is what Raptor gives it, never supervisord's, sshd's or Raptor's", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  const before = process.env[PLANTED_KEY];

  beforeAll(async () => {
    process.env[PLANTED_KEY] = PLANTED;
    bed = await startTestbed({ hosts: 1 });
    // The proc, its uptest and the release hook each write what `env` shows them into the proc's directory.
    repo = await makeAppRepo(HELLO_APP, {
      Procfile: "web: sh ./envdump.sh\n",
      "envdump.sh": "env > proc.env\nexec node server.js\n",
      "uptests/web/env": "#!/bin/sh\nenv > uptest.env\n",
    });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          [APP]: { repo: repo.path, environments: { prod: bedEnv(1, "envp_prod", { env: { GREETING: "hi-env" }, release_hook: ["sh", "-c", "env > hook.env"] }) } },
        }),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await bed?.stop();
    await rm(repo.path, { recursive: true, force: true });
    await exec("userdel", [`raptor-${APP}`]).catch(() => undefined);
    if (before === undefined) delete process.env[PLANTED_KEY];
    else process.env[PLANTED_KEY] = before;
  });

  it("the proc, its uptest and its release hook see their config, PORT/HOST and the user's HOME, and none of the planted variable nor supervisord's or sshd's own", async () => {
    const r = await h.say(`deploy ${APP} prod`);
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    const [row] = await liveProcRows(h, APP, "prod");
    expect(await httpGet(row!.host, row!.port!)).toBeTruthy();
    const dir = join(bed.hosts[0]!.root, "procs", row!.name);
    const fileKeys = envFileKeys(await readFile(join(dir, ".raptor", "env"), "utf8"));
    const user = `raptor-${APP}`;
    const home = (await exec("getent", ["passwd", user])).stdout.split(":")[5]!;

    for (const file of ["proc.env", "uptest.env", "hook.env"]) {
      const text = await readFile(join(dir, file), "utf8");
      expect(text, file).not.toContain(PLANTED);
      const seen = parseEnv(text);
      expect(seen[PLANTED_KEY], file).toBeUndefined();
      // Exactly the env file's keys and the base: no SUPERVISOR_*, SSH_*, MAKEFLAGS, RAPTOR_DATA...
      expect(Object.keys(seen).filter((k) => !fileKeys.includes(k) && !BASE_KEYS.includes(k)), file).toEqual([]);
      expect(seen.GREETING, file).toBe("hi-env");
      expect(seen.PORT, file).toBe(String(row!.port));
      expect(seen.HOST, file).toBe(row!.host);
      expect(seen.RAPTOR_APP, file).toBe(APP);
      expect(seen.USER, file).toBe(user);
      expect(seen.LOGNAME, file).toBe(user);
      expect(seen.HOME, file).toBe(home || "/");
      expect(seen.PATH, file).toBe("/usr/local/bin:/usr/bin:/bin");
    }
  });
});

import { execFile } from "node:child_process";
import { readFile, rm, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../db/client.ts";
import { buildOrReuse } from "../../engine/builds/build-or-reuse.ts";
import { makeAppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const checkout = resolve(here, "../..");

/** Secrets planted in the worker's own environment, as a real worker holds them. */
const PLANTED = {
  DATABASE_URL: "postgres://raptor:planted-db-password-4c1e@127.0.0.1:5432/raptor",
  SLACK_BOT_TOKEN: "xoxb-planted-slack-token-77aa",
  RAPTOR_PLAYBOOK_SECRET: "planted-playbook-secret-9f3b",
};

/** What no sandboxed step may print: the planted values and the probe's alarm words. */
function expectNothingFound(log: string) {
  for (const v of Object.values(PLANTED)) expect(log).not.toContain(v);
  for (const alarm of ["REDIS REACHED", "POSTGRES REACHED", "SHADOW READ", "SYSTEM WRITABLE", "probe: SAW"]) expect(log).not.toContain(alarm);
  expect(log).toContain("probe: redis unreachable");
  expect(log).toContain("probe: postgres unreachable");
  expect(log).toContain("probe: done");
  expect(log).toMatch(/probe: uid=[1-9]\d*/); // never root
  // Its own pid namespace: the build's own processes only, none of the machine's.
  const procs = Number(/probe: processes=(\d+)/.exec(log)?.[1]);
  expect(procs).toBeGreaterThan(0);
  expect(procs).toBeLessThan(20);
  const cmdlines = log.split("\n").filter((l) => l.startsWith("probe-proc "));
  expect(cmdlines.length).toBeGreaterThan(0);
  for (const l of cmdlines) expect(l).not.toMatch(/vitest|postgres|redis-server|supervisord|sshd|raptor (worker|bot|all)/);
}

describe("hostile build steps find nothing of Raptor (bubblewrap sandbox)", () => {
  let h: DbHandle;
  let dataDir: string;
  let probe: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    [h, dataDir, probe] = await Promise.all([freshDb(), mkdtemp(join(tmpdir(), "raptor-sec-")), readFile(join(here, "hostile/probe.sh"), "utf8")]);
    for (const [k, v] of Object.entries(PLANTED)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("control: the same probe run unsandboxed as a child of the worker does find Raptor's secrets and Redis", async () => {
    const repo = await makeAppRepo(null, { "probe.sh": probe, "guess-paths": `${dataDir}\n${checkout}\n` });
    try {
      // A parent holding the worker's secrets in its environ, as `raptor worker` does.
      const { stdout } = await exec("sh", ["-c", 'bash "$0"; true', join(repo.path, "probe.sh")], { env: { ...PLANTED, PATH: process.env.PATH }, maxBuffer: 16 << 20 });
      expect(stdout).toContain(PLANTED.SLACK_BOT_TOKEN); // via /proc/$PPID/environ
      expect(stdout).toContain("REDIS REACHED");
      expect(stdout).toContain("probe: SAW");
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  });

  it("a custom buildpack's bin/compile (and bin/detect, bin/release) sees no environment, process, database or Redis of Raptor", async () => {
    const repo = await makeAppRepo(null, {
      "probe.sh": probe,
      "guess-paths": `${dataDir}\n${checkout}\n`,
      "bin/compile": '#!/usr/bin/env bash\necho "compile args: $*"\nbash "$1/probe.sh"\n',
      "bin/release": '#!/usr/bin/env bash\nbash "$1/probe.sh" >&2\necho "default_process_types: { web: \'sleep 1000\' }"\n',
      Procfile: "web: sleep 1000\n",
    });
    try {
      const logs: string[] = [];
      const { build } = await buildOrReuse({ db: h.db, app: "hostile", repo: repo.path, commit: repo.initial, dataDir, onLog: (l) => logs.push(l) });
      const log = logs.join("\n");
      expect(log).toContain("compile args: /build/app /build/cache /build/env");
      expectNothingFound(log);
      expectNothingFound(build.log ?? "");
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  });

  it("an npm preinstall script under the shipped nodejs buildpack sees nothing of Raptor either", async () => {
    const repo = await makeAppRepo(null, {
      "probe.sh": probe,
      "guess-paths": `${dataDir}\n${checkout}\n`,
      "package.json": JSON.stringify({
        name: "hostile-npm",
        version: "1.0.0",
        scripts: { preinstall: "bash probe.sh", start: "node server.js" },
        dependencies: { "local-dep": "file:./local-dep" },
      }),
      "local-dep/package.json": JSON.stringify({ name: "local-dep", version: "1.0.0" }),
      "server.js": "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)\n",
    });
    try {
      const logs: string[] = [];
      await buildOrReuse({ db: h.db, app: "hostile-npm", repo: repo.path, commit: repo.initial, dataDir, buildpack: "nodejs", onLog: (l) => logs.push(l) });
      const log = logs.join("\n");
      expect(log).toContain("Installing 1 dependencies");
      expectNothingFound(log);
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  });
});

describe("build caches are per installation", () => {
  it("two Raptor data directories on one machine never share an app's buildpack cache; one directory keeps its own", async () => {
    const { BuildSandbox } = await import("../../engine/builds/sandbox.ts");
    const [a, b] = [await mkdtemp(join(tmpdir(), "raptor-inst-a-")), await mkdtemp(join(tmpdir(), "raptor-inst-b-"))];
    const box = (dataDir: string) => BuildSandbox.create({ dataDir, app: "hello", cacheKey: "auto", id: `cache-${Math.random().toString(36).slice(2)}` });
    const [a1, a2, b1] = [await box(a), await box(a), await box(b)];
    expect(a1.cacheDir).toBe(a2.cacheDir);
    expect(b1.cacheDir).not.toBe(a1.cacheDir);
    for (const x of [a1, a2, b1]) await rm(x.work, { recursive: true, force: true });
    // Each installation's cache root (<base>/cache/<installation>) goes too.
    for (const x of [a1, b1]) await rm(dirname(dirname(x.cacheDir)), { recursive: true, force: true });
    for (const d of [a, b]) await rm(d, { recursive: true, force: true });
  });
});

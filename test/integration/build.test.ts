import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../db/client.ts";
import { builds } from "../../db/schema/index.ts";
import { buildOrReuse } from "../../engine/builds/build-or-reuse.ts";
import { exportCommit, resolveRef } from "../../engine/builds/git.ts";
import { HELLO_APP, makeAppRepo, type AppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";
import { buildErrorOf } from "../support/build-error-of.ts";

const exec = promisify(execFile);

describe("builds", () => {
  let h: DbHandle;
  let dataDir: string;
  let hello: AppRepo;

  beforeAll(async () => {
    [h, dataDir, hello] = await Promise.all([freshDb(), mkdtemp(join(tmpdir(), "raptor-data-")), makeAppRepo(HELLO_APP)]);
  });
  afterAll(async () => {
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(hello.path, { recursive: true, force: true });
  });

  it("builds examples/hello, then reuses the build without compiling again", async () => {
    const { commit } = await resolveRef(hello.path, "main", { dataDir });
    expect(commit).toBe(hello.initial);

    const logs: string[] = [];
    let t = performance.now();
    const first = await buildOrReuse({ db: h.db, app: "hello", repo: hello.path, commit, dataDir, onLog: (l) => logs.push(l) });
    const coldMs = performance.now() - t;
    expect(first.reused).toBe(false);
    const b = first.build;
    expect(b).toMatchObject({ app: "hello", commit, buildpack: "auto", detected: "nodejs", status: "succeeded" });
    expect(b.procfile).toEqual({ web: "node server.js" });
    expect(b.configVars).toEqual({ NODE_ENV: "production" });
    expect(b.path).toBe(join(dataDir, "builds", `${b.id}.tar.gz`));
    expect(existsSync(b.path!)).toBe(true);
    expect(createHash("md5").update(readFileSync(b.path!)).digest("hex")).toBe(b.md5);
    const { stdout: listing } = await exec("tar", ["-tzf", b.path!]);
    expect(listing).toContain("./server.js");
    expect(listing).toContain("./uptests/web/http");
    expect(listing).toContain("./.raptor/node-version");
    expect(listing).not.toContain(".git/");
    expect(logs.some((l) => l.includes("No dependencies"))).toBe(true);
    expect(b.log).toContain("No dependencies");

    const again: string[] = [];
    t = performance.now();
    const second = await buildOrReuse({ db: h.db, app: "hello", repo: hello.path, commit, dataDir, onLog: (l) => again.push(l) });
    const reusedMs = performance.now() - t;
    expect(second.reused).toBe(true);
    expect(second.build.id).toBe(b.id);
    expect(second.build.finishedAt).toEqual(b.finishedAt);
    expect(again).toEqual([]); // compile did not run: not one log line
    console.log(`hello build: cold ${coldMs.toFixed(0)} ms, reused ${reusedMs.toFixed(0)} ms`);

    // Another buildpack request is another key: built anew.
    const named = await buildOrReuse({ db: h.db, app: "hello", repo: hello.path, commit, buildpack: "nodejs", dataDir });
    expect(named.reused).toBe(false);
    expect(named.build.id).not.toBe(b.id);
  });

  it("resolves a branch (after it moves), an annotated tag, and short and full shas", async () => {
    await hello.tag("v1.0.0");
    await hello.branch("release/1.0");
    const second = await hello.commit({ VERSION: "v2\n" }, "v2");
    expect(await resolveRef(hello.path, "main", { dataDir })).toEqual({ commit: second, shortSha: second.slice(0, 7) });
    expect((await resolveRef(hello.path, "v1.0.0", { dataDir })).commit).toBe(hello.initial);
    expect((await resolveRef(hello.path, "release/1.0", { dataDir })).commit).toBe(hello.initial);
    expect((await resolveRef(hello.path, hello.initial.slice(0, 8), { dataDir })).commit).toBe(hello.initial);
    expect((await resolveRef(hello.path, second, { dataDir })).commit).toBe(second);

    const dest = await mkdtemp(join(tmpdir(), "raptor-export-"));
    await exportCommit(hello.path, hello.initial, dest, { dataDir });
    expect(readFileSync(join(dest, "VERSION"), "utf8")).toBe("v1\n");
    expect(existsSync(join(dest, ".git"))).toBe(false);
    await rm(dest, { recursive: true, force: true });
  });

  it("lists branches and tags, with a did-you-mean, for an unknown ref", async () => {
    const err = await buildErrorOf(resolveRef(hello.path, "mian", { dataDir }));
    expect(err.code).toBe("ref_not_found");
    expect(err.message).toContain("No branch, tag or commit `mian`");
    expect(err.message).toContain("Did you mean `main`?");
    expect(err.message).toMatch(/Branches: .*`main`/);
    expect(err.message).toMatch(/Tags: .*`v1.0.0`/);
    expect((await buildErrorOf(resolveRef(hello.path, "deadbeef", { dataDir }))).code).toBe("ref_not_found");
  });

  it.each(["-x", "--upload-pack=touch /tmp/raptor-pwned", "--output=/tmp/x", "main..v1", "a b", "main@{1}", "main~1", "HEAD^", ""])(
    "refuses the ref %j before running git",
    async (ref) => {
      const err = await buildErrorOf(resolveRef(hello.path, ref, { dataDir }));
      expect(err.code).toBe("invalid");
      expect(existsSync("/tmp/raptor-pwned")).toBe(false);
    },
  );

  it("passes a ref git accepts but a shell would not (main;id) to git as data: not found, nothing run", async () => {
    const err = await buildErrorOf(resolveRef(hello.path, "main;touch${IFS}/tmp/raptor-pwned2", { dataDir }));
    expect(err.code).toBe("ref_not_found");
    expect(existsSync("/tmp/raptor-pwned2")).toBe(false);
  });

  it("fails a build whose bin/compile fails, with the last 40 lines of a long log", async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `echo "compile-line-${String(i + 1).padStart(3, "0")}"`).join("\n");
    const repo = await makeAppRepo(null, {
      "bin/compile": `#!/usr/bin/env bash\n${lines}\necho "broken build" >&2\nexit 3\n`,
      Procfile: "web: ./run\n",
    });
    const seen: string[] = [];
    const err = await buildErrorOf(buildOrReuse({ db: h.db, app: "broken", repo: repo.path, commit: repo.initial, dataDir, onLog: (l) => seen.push(l) }));
    expect(err.code).toBe("build_failed");
    expect(err.message).toContain("bin/compile of buildpack custom exited with 3");
    // The tail travels once, as the failure's output, not again inside its message (issue 11 item 8).
    expect(err.message).not.toContain("compile-line-");
    expect(err.output).toContain("compile-line-100");
    expect(err.output).toContain("broken build");
    expect(err.output).not.toContain("compile-line-001");
    expect(err.output).not.toContain("compile-line-060");
    expect(err.output?.split("\n")).toHaveLength(40);
    expect(seen).toContain("compile-line-001"); // streamed as it came

    const [row] = await h.db.select().from(builds).where(eq(builds.app, "broken"));
    expect(row).toMatchObject({ status: "failed", detected: "custom" });
    expect(row!.log).toContain("compile-line-001"); // the whole log is kept
    expect(row!.finishedAt).not.toBeNull();
    await rm(repo.path, { recursive: true, force: true });
  });

  it("builds once when two workers ask for the same commit at once", async () => {
    const repo = await makeAppRepo(HELLO_APP);
    const counts = [0, 0];
    const ask = (i: 0 | 1) =>
      buildOrReuse({ db: h.db, app: "twin", repo: repo.path, commit: repo.initial, dataDir, pollMs: 50, onLog: () => counts[i]!++ });
    const [a, b] = await Promise.all([ask(0), ask(1)]);
    expect(a.build.id).toBe(b.build.id);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(counts.filter((c) => c > 0)).toHaveLength(1);
    const rows = await h.db.select().from(builds).where(eq(builds.app, "twin"));
    expect(rows).toHaveLength(1);
    await rm(repo.path, { recursive: true, force: true });
  });

  it("takes over a stale running build, and builds a failed one again on request", async () => {
    const commit = hello.initial;
    await h.db.insert(builds).values({ app: "stale", commit, buildpack: "auto", createdAt: sql`now() - interval '31 minutes'` });
    const taken = await buildOrReuse({ db: h.db, app: "stale", repo: hello.path, commit, dataDir });
    expect(taken).toMatchObject({ reused: false, build: { status: "succeeded" } });

    await h.db.insert(builds).values({ app: "retry", commit, buildpack: "auto", status: "failed", log: "old failure" });
    const retried = await buildOrReuse({ db: h.db, app: "retry", repo: hello.path, commit, dataDir });
    expect(retried.build.status).toBe("succeeded");
    expect(retried.build.log).not.toContain("old failure");
  });

  it("keeps one intact mirror when resolves of a new repo race", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "raptor-data-"));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => resolveRef(hello.path, i % 2 ? "main" : "v1.0.0", { dataDir: fresh })));
    expect(new Set(results.map((r) => r.commit)).size).toBe(2);
    const { stdout } = await exec("ls", [join(fresh, "cache", "git")]);
    expect(stdout.trim().split("\n")).toHaveLength(1); // no temp clones or lock dirs left behind
    await rm(fresh, { recursive: true, force: true });
  });

  it("gives buildpacks none of the worker's environment (no secrets in build logs)", async () => {
    process.env.RAPTOR_TEST_SECRET = "hunter2-not-for-logs";
    try {
      const repo = await makeAppRepo(null, { "bin/compile": "#!/usr/bin/env bash\nenv\n", Procfile: "web: ./run\n" });
      const seen: string[] = [];
      const { build } = await buildOrReuse({ db: h.db, app: "envcheck", repo: repo.path, commit: repo.initial, dataDir, onLog: (l) => seen.push(l) });
      expect(seen.some((l) => l.startsWith("PATH="))).toBe(true);
      expect(seen.join("\n")).not.toContain("hunter2");
      expect(build.log).not.toContain("hunter2");
      expect(seen.some((l) => l.startsWith("DATABASE_URL=") || l.startsWith("TEST_DATABASE_URL="))).toBe(false);
      await rm(repo.path, { recursive: true, force: true });
    } finally {
      delete process.env.RAPTOR_TEST_SECRET;
    }
  });

  it("refuses an unknown buildpack name, and a named buildpack that does not detect the app", async () => {
    const unknown = await buildErrorOf(buildOrReuse({ db: h.db, app: "hello", repo: hello.path, commit: hello.initial, buildpack: "nodjs", dataDir }));
    expect(unknown.code).toBe("invalid");
    expect(unknown.message).toContain("Did you mean `nodejs`?");
    const err = await buildErrorOf(buildOrReuse({ db: h.db, app: "hello", repo: hello.path, commit: hello.initial, buildpack: "custom", dataDir }));
    // It says what the buildpack looks for (issue 11 item 8).
    expect(err.message).toContain("buildpack custom: a bin/compile of the app's own — not found in this app");
  });
});

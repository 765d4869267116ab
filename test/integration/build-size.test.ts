import { readdir, rm, mkdtemp } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../db/client.ts";
import { builds } from "../../db/schema/index.ts";
import { buildOrReuse } from "../../engine/builds/build-or-reuse.ts";
import { dirBytes } from "../../engine/builds/size-limit.ts";
import { runOk } from "../../engine/builds/exec.ts";
import { resolveRef } from "../../engine/builds/git.ts";
import { configFromEnv } from "../../bin/config.ts";
import { makeAppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";
import { buildErrorOf } from "../support/build-error-of.ts";

const MiB = 1024 * 1024;

/**
 * Red team M6: a 1.4 MB repo of zeros unpacked to 1 GB in the worker's build dir and 1 GB per proc
 * on the host. A build larger than the limit (RAPTOR_MAX_BUILD_SIZE) fails, naming its size and
 * the limit, and nothing of that size is written or stored.
 */
describe("the build size limit", () => {
  let h: DbHandle;
  let dataDir: string;

  beforeAll(async () => {
    [h, dataDir] = await Promise.all([freshDb(), mkdtemp(join(tmpdir(), "raptor-size-"))]);
  });
  afterAll(async () => {
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("a repo whose checkout is larger than the limit (6 MiB of zeros, a few KB in git) is refused before it is checked out", async () => {
    const repo = await makeAppRepo(null, { "bin/compile": "#!/usr/bin/env bash\ntrue\n", Procfile: "web: ./run\n", "big.bin": "\0".repeat(6 * MiB) });
    try {
      const { commit } = await resolveRef(repo.path, "main", { dataDir });
      const err = await buildErrorOf(buildOrReuse({ db: h.db, app: "big", repo: repo.path, commit, dataDir, maxBytes: 2 * MiB }));
      expect(err.code).toBe("build_failed");
      expect(err.message).toContain(`the checkout of ${commit.slice(0, 7)} is 6.0 MiB, over the build size limit of 2.0 MiB (RAPTOR_MAX_BUILD_SIZE)`);
      expect(err.message).toContain("raise RAPTOR_MAX_BUILD_SIZE");
      const [row] = await h.db.select().from(builds).where(eq(builds.commit, commit));
      expect(row).toMatchObject({ status: "failed" });
      expect(row!.log).toContain("over the build size limit of 2.0 MiB");
      // Nothing was unpacked: all of the data dir (mirror included) is far below the file's size.
      expect(await dirBytes(dataDir)).toBeLessThan(2 * MiB);
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  }, 60_000);

  it("a build whose compile makes it larger than the limit (a sparse file of 256 MiB) is refused before it is archived", async () => {
    const repo = await makeAppRepo(null, { "bin/compile": '#!/usr/bin/env bash\nset -e\ntruncate -s 256M "$1/sparse.bin"\n', Procfile: "web: ./run\n" });
    try {
      const { commit } = await resolveRef(repo.path, "main", { dataDir });
      const err = await buildErrorOf(buildOrReuse({ db: h.db, app: "sparse", repo: repo.path, commit, dataDir, maxBytes: 16 * MiB }));
      expect(err.code).toBe("build_failed");
      expect(err.message).toMatch(new RegExp(`the build of ${commit.slice(0, 7)} is 256\\.\\d MiB, over the build size limit of 16\\.0 MiB \\(RAPTOR_MAX_BUILD_SIZE\\)`));
      // No tarball was made or stored.
      expect(existsSync(join(dataDir, "builds")) ? await readdir(join(dataDir, "builds")) : []).toEqual([]);
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  }, 60_000);

  it("export-subst in the commit's .gitattributes does not grow the checkout past its tree (red team N3a: 183 KB wrote 1.5 GB)", async () => {
    // 10 files of 1000 `$Format:%B$` each and a 1 KB commit message: `git archive` expands them to 10 MB.
    const placeholders = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`sub/f${i}`, "$Format:%B$\n".repeat(1000)]));
    const compile = '#!/usr/bin/env bash\nset -e\necho "checkout bytes $(du -s -b -P "$1" | cut -f1)"\n';
    const repo = await makeAppRepo(null, { "bin/compile": compile, Procfile: "web: ./run\n", ".gitattributes": "sub/* export-subst\n" });
    try {
      await repo.commit({ ...placeholders }, `subst\n\n${"X".repeat(1000)}`);
      const { commit } = await resolveRef(repo.path, "main", { dataDir });
      const lines: string[] = [];
      const r = await buildOrReuse({ db: h.db, app: "subst", repo: repo.path, commit, dataDir, maxBytes: 2 * MiB, onLog: (l) => lines.push(l) });
      expect(r.build.status).toBe("succeeded");
      const seen = Number(/checkout bytes (\d+)/.exec(lines.join("\n"))?.[1]);
      expect(seen).toBeGreaterThan(100 * 1000);
      expect(seen).toBeLessThan(2 * MiB);
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  }, 60_000);

  // Red team N3b: an npm postinstall wrote 1.5 GB and deleted it before compile returned; the build passed.
  it.each([
    ["the build directory", 'head -c 6M /dev/zero > "$1/big.bin"; ls -la "$1/big.bin"; rm -f "$1/big.bin"'],
    ["the cache", 'head -c 6M /dev/zero > "$2/big.bin"; rm -f "$2/big.bin"'],
    ["/tmp", "head -c 6M /dev/zero > /tmp/big.bin; rm -f /tmp/big.bin"],
  ])("a compile that writes 6 MiB into %s and deletes it fails at a 2 MiB limit, naming it, and its output is not stored", async (where, body) => {
    const repo = await makeAppRepo(null, { "bin/compile": `#!/usr/bin/env bash\n${body}\nexit 0\n`, Procfile: "web: ./run\n" });
    try {
      const { commit } = await resolveRef(repo.path, "main", { dataDir });
      const app = `wrote-${where.replace(/[^a-z]/g, "")}`;
      const err = await buildErrorOf(buildOrReuse({ db: h.db, app, repo: repo.path, commit, dataDir, maxBytes: 2 * MiB }));
      expect(err.code).toBe("build_failed");
      expect(err.message).toContain("the build wrote more than 2.0 MiB (RAPTOR_MAX_BUILD_SIZE)");
      const [row] = await h.db.select().from(builds).where(eq(builds.app, app));
      expect(row).toMatchObject({ status: "failed" });
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  }, 60_000);

  it("a compile that writes under the limit keeps its build directory and cache (the next build sees the cache)", async () => {
    const compile = '#!/usr/bin/env bash\nset -e\necho "cache holds: $(cat "$2/count" 2>/dev/null || echo none)"\necho built > "$1/made.txt"\necho "$(date +%N)" > "$2/count"\n';
    const repo = await makeAppRepo(null, { "bin/compile": compile, Procfile: "web: ./run\n" });
    try {
      const first = await resolveRef(repo.path, "main", { dataDir });
      await buildOrReuse({ db: h.db, app: "kept", repo: repo.path, commit: first.commit, dataDir, maxBytes: 2 * MiB });
      const second = await repo.commit({ "x.txt": "x" });
      const lines: string[] = [];
      const r = await buildOrReuse({ db: h.db, app: "kept", repo: repo.path, commit: second, dataDir, maxBytes: 2 * MiB, onLog: (l) => lines.push(l) });
      expect(r.build.status).toBe("succeeded");
      expect(lines.join("\n")).toMatch(/cache holds: \d+/);
      const listing = (await runOk(["tar", "-tzf", r.build.path!])).split("\n");
      expect(listing).toEqual(expect.arrayContaining(["./made.txt", "./x.txt"]));
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  }, 60_000);

  it("the same repos build under a limit above their size", async () => {
    const repo = await makeAppRepo(null, { "bin/compile": "#!/usr/bin/env bash\ntrue\n", Procfile: "web: ./run\n", "big.bin": "\0".repeat(6 * MiB) });
    try {
      const { commit } = await resolveRef(repo.path, "main", { dataDir });
      const r = await buildOrReuse({ db: h.db, app: "big", repo: repo.path, commit, dataDir, maxBytes: 8 * MiB });
      expect(r.build.status).toBe("succeeded");
    } finally {
      await rm(repo.path, { recursive: true, force: true });
    }
  }, 60_000);

  it("RAPTOR_MAX_BUILD_SIZE sets the limit (1 GiB unset); a value that is not a size stops start-up, named", () => {
    const env = (v?: string) => ({ RAPTOR_DATA: dataDir, ...(v === undefined ? {} : { RAPTOR_MAX_BUILD_SIZE: v }) });
    expect(configFromEnv(env()).options.maxBuildBytes).toBe(1024 ** 3);
    expect(configFromEnv(env("512M")).options.maxBuildBytes).toBe(512 * MiB);
    expect(() => configFromEnv(env("lots"))).toThrow(/RAPTOR_MAX_BUILD_SIZE: "lots" is not a size/);
  });
});

import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../db/client.ts";
import { buildOrReuse } from "../../engine/builds/build-or-reuse.ts";
import { BuildError } from "../../engine/builds/build-error.ts";
import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { makeAppRepo } from "../support/app-repo.ts";
import { freshDb } from "../support/db.ts";

const exec = promisify(execFile);
const MARKER = "root-only-marker-5d2e: web: cat /etc/shadow";

async function buildError(p: Promise<unknown>): Promise<{ err: BuildError }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    return { err: err as BuildError };
  }
  throw new Error("expected the build to fail");
}

describe("a repo cannot make Raptor read outside it", () => {
  let h: DbHandle;
  let dataDir: string;
  let secretDir: string;
  let secretFile: string;

  beforeAll(async () => {
    [h, dataDir, secretDir] = await Promise.all([freshDb(), mkdtemp(join(tmpdir(), "raptor-sec-data-")), mkdtemp(join(tmpdir(), "raptor-rootonly-"))]);
    secretFile = join(secretDir, "secret");
    await writeFile(secretFile, `${MARKER}\n`, { mode: 0o600 });
    await chmod(secretFile, 0o600);
  });
  afterAll(async () => {
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretDir, { recursive: true, force: true });
  });

  async function repoWithLinks(links: Record<string, string>, files: Record<string, string> = {}) {
    const repo = await makeAppRepo(null, { "bin/compile": "#!/bin/sh\necho compiled\n", ...files });
    for (const [path, target] of Object.entries(links)) await symlink(target, join(repo.path, path));
    return { ...repo, head: await repo.commit({}, "links") };
  }

  it("a Procfile linked to a root-only file fails with a clear error, the file's content never shown", async () => {
    const repo = await repoWithLinks({ Procfile: secretFile });
    const logs: string[] = [];
    const { err } = await buildError(buildOrReuse({ db: h.db, app: "linked", repo: repo.path, commit: repo.head, dataDir, onLog: (l) => logs.push(l) }));
    expect(err.message).toContain("Procfile is a link to a file outside the app");
    for (const text of [err.message, err.output ?? "", logs.join("\n")]) expect(text).not.toContain("root-only-marker");
    await rm(repo.path, { recursive: true, force: true });
  });

  it("a Procfile reached through a linked directory is refused too; a link inside the tree is followed", async () => {
    const outside = await repoWithLinks({ config: secretDir }, { "bin/release": "#!/bin/sh\necho '--- {}'\n" });
    // The app's own Procfile is `config/secret` by way of a link: only allowed when it stays inside.
    await exec("ln", ["-s", "config/secret", join(outside.path, "Procfile")]);
    const head = await outside.commit({}, "procfile via dir link");
    const { err } = await buildError(buildOrReuse({ db: h.db, app: "dirlink", repo: outside.path, commit: head, dataDir }));
    expect(err.message).toContain("outside the app");
    expect(err.message).not.toContain("root-only-marker");

    const inside = await repoWithLinks({ Procfile: "procs/Procfile.real" }, { "procs/Procfile.real": "web: sleep 1000\n" });
    const { build } = await buildOrReuse({ db: h.db, app: "inlink", repo: inside.path, commit: inside.head, dataDir });
    expect(build.procfile).toEqual({ web: "sleep 1000" });
    await rm(outside.path, { recursive: true, force: true });
    await rm(inside.path, { recursive: true, force: true });
  });

  it("bin/release default_process_types names are checked like Procfile names", async () => {
    const repo = await makeAppRepo(null, {
      "bin/compile": "#!/bin/sh\necho compiled\n",
      "bin/release": "#!/bin/sh\necho 'default_process_types: { \"../../x\": \"sleep 1\" }'\n",
    });
    const { err } = await buildError(buildOrReuse({ db: h.db, app: "badnames", repo: repo.path, commit: repo.initial, dataDir }));
    // The refused name is foreign text, marked verbatim for the terminal (lib/verbatim.ts).
    expect(withoutVerbatimMarks(err.message)).toContain("default_process_types name `../../x` must be lowercase letters");
    await rm(repo.path, { recursive: true, force: true });
  });
});

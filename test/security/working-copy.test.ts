import { chmodSync, chownSync, mkdirSync, mkdtempSync } from "node:fs";
import { chmod, chown, cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BuildError } from "../../engine/builds/build-error.ts";
import { snapshotWorkingCopy } from "../../engine/builds/working-copy.ts";
import { formatIssue } from "../../playbooks/schema/issues.ts";
import { parsePlaybookFiles } from "../../playbooks/load.ts";
import { HELLO_APP } from "../support/app-repo.ts";

const dirs: string[] = [];
/** A fresh directory others may read, as a checkout under /srv would be. */
async function openDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "raptor-wc-"));
  await chmod(d, 0o755);
  dirs.push(d);
  return d;
}

/** `d`, made (if need be) with `bits` (0o777: world-writable, no sticky bit). */
function mode(d: string, bits: number): string {
  mkdirSync(d, { recursive: true });
  chmodSync(d, bits);
  return d;
}

/** `d`, now owned by `uid`, with an open `app` directory of the operator's in it. */
function owned(d: string, uid: number): string {
  chmodSync(d, 0o755);
  mkdirSync(join(d, "app"));
  chmodSync(join(d, "app"), 0o755);
  chownSync(d, uid, uid);
  return d;
}

/** `d`, removed after the tests. */
function kept(d: string): string {
  dirs.push(d);
  return d;
}

/** The issues of a playbook whose app `web` is a working copy at `repo` (line 5 is `repo:`). */
function loadIssues(repo: string): string[] {
  const text = `squads:\n  s: { hosts: [h], transport: local }\napps:\n  web:\n    repo: ${JSON.stringify(repo)}\n    working_copy: true\n    environments:\n      prod: { squad: s }\n`;
  const r = parsePlaybookFiles([{ path: "a.yaml", text }]);
  return r.ok ? [] : r.issues.map(formatIssue);
}

describe("working_copy: true deploys only an operator's own directory, and nothing its owner kept private", () => {
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("a working copy of /etc, /, /var/lib/postgresql or a link to /etc is refused at load, at file:line", async () => {
    expect(loadIssues("/etc")).toEqual([expect.stringMatching(/^a\.yaml:5: .*working_copy: \/etc is the system directory \/etc: a working copy must be an app's own directory/)]);
    expect(loadIssues("/")).toEqual([expect.stringMatching(/^a\.yaml:5: .*is the whole file system/)]);
    expect(loadIssues("/var/lib/postgresql")).toEqual([expect.stringMatching(/^a\.yaml:5: .*is inside the system directory \/var\/lib/)]);
    const d = await openDir();
    await symlink("/etc", join(d, "innocent"));
    expect(loadIssues(join(d, "innocent"))).toEqual([expect.stringMatching(/^a\.yaml:5: .*is the system directory \/etc \(.*innocent leads there\)/)]);
  });

  it("a directory of another user (not the one who ran sudo), or one private to its owner, is refused at load; an operator's open directory (or one not made yet) loads", async () => {
    const theirs = await openDir();
    await chown(theirs, 65534, 65534); // nobody's
    expect(loadIssues(theirs)).toEqual([expect.stringMatching(/^a\.yaml:5: .*belongs to uid 65534, not to the user Raptor runs as/)]);
    // Unless that user started Raptor with sudo (a checkout cloned as oneself, then `sudo make run`).
    process.env.SUDO_UID = "65534";
    try {
      expect(loadIssues(theirs)).toEqual([]);
    } finally {
      delete process.env.SUDO_UID;
    }
    const closed = await openDir();
    await chmod(closed, 0o700);
    expect(loadIssues(closed)).toEqual([expect.stringMatching(/^a\.yaml:5: .*is mode 0700, private to its owner.*chmod o\+rx/)]);
    // An operator's own directory in /tmp (sticky: only an entry's owner may rename it) loads.
    expect(loadIssues(await openDir())).toEqual([]);
    expect(loadIssues(join(await openDir(), "not-yet"))).toEqual([]);
  });

  // Issue 8 red team 3: Raptor's own data, the demo's, and world-writable places loaded.
  it.each([
    ["inside RAPTOR_DATA (the database's WAL)", (data: string) => join(data, "pglite", "pg_wal"), /is inside Raptor's own data .*never Raptor's/],
    ["RAPTOR_DATA itself", (data: string) => data, /is inside Raptor's own data/],
    ["inside $RAPTOR_DATA-demo", (data: string) => join(`${data}-demo`, "hosts"), /is inside Raptor's own data .*-demo/],
    ["a directory holding RAPTOR_DATA", (data: string) => join(data, ".."), /holds Raptor's own data/],
    ["/tmp", () => "/tmp", /is the world-writable directory \/tmp: anyone/],
    ["/var/tmp", () => "/var/tmp", /is the world-writable directory \/var\/tmp/],
    ["a 0777 directory", (data: string) => mode(join(data, "..", "open"), 0o777), /is the world-writable directory .*\/open: anyone/],
    ["a directory in a 0777 directory (no sticky bit)", (data: string) => join(mode(join(data, "..", "open"), 0o777), "app"), /is inside the world-writable directory .*\/open, which has no sticky bit/],
    ["another user's directory in /tmp, or one in it", () => join(owned(kept(mkdtempSync(join(tmpdir(), "raptor-wc-theirs-"))), 65534), "app"), /is inside .*raptor-wc-theirs-.*, in the world-writable \/tmp, and .* belongs to uid 65534, who can rename/],
  ])("%s is refused at load, at file:line", async (_name, place, message) => {
    const root = await openDir();
    const data = join(root, "data");
    await mkdir(join(data, "pglite", "pg_wal"), { recursive: true });
    const saved = process.env.RAPTOR_DATA;
    process.env.RAPTOR_DATA = data;
    try {
      const dir = place(data);
      expect(loadIssues(dir)).toEqual([expect.stringMatching(new RegExp(`^a\\.yaml:5: .*${message.source}`))]);
    } finally {
      if (saved === undefined) delete process.env.RAPTOR_DATA;
      else process.env.RAPTOR_DATA = saved;
    }
  });

  it("a 0600 rootonly.txt (or a file in a 0700 directory) is not packed for the app: the deploy says which and how to fix; readable or .gitignored, it deploys", async () => {
    const dir = await openDir();
    const data = await mkdtemp(join(tmpdir(), "raptor-wc-data-"));
    dirs.push(data);
    await cp(HELLO_APP, dir, { recursive: true });
    await writeFile(join(dir, "rootonly.txt"), "root's eyes only\n", { mode: 0o600 });
    await chmod(join(dir, "rootonly.txt"), 0o600);
    await mkdir(join(dir, "private"), { mode: 0o700 });
    await chmod(join(dir, "private"), 0o700);
    await writeFile(join(dir, "private", "notes.txt"), "open file, closed dir\n", { mode: 0o644 });
    const app = { name: "web", repo: dir, working_copy: true };

    const err = await snapshotWorkingCopy(app, data).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("invalid");
    expect((err as BuildError).message).toContain(`web deploys ${dir} as it is (working_copy: true), and 2 files there are kept from other users: private/notes.txt (0644), rootonly.txt (0600).`);
    expect((err as BuildError).message).toContain("chmod o+r");

    // Left out with .gitignore (not deployed), or made readable: it deploys.
    await writeFile(join(dir, ".gitignore"), "rootonly.txt\n", { mode: 0o644 });
    await chmod(join(dir, "private"), 0o755);
    await expect(snapshotWorkingCopy(app, data)).resolves.toMatchObject({ changed: true });
  });
});

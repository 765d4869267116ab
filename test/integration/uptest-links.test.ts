import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecOptions, ExecResult, Host } from "../../runners/host.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { isInside, linkedOut, runUptests } from "../../runners/uptest.ts";

/**
 * Red-team L1 (2026-11-30): an app's repo whose `uptests` is a link to another app's private
 * directory made Raptor, as root, list that directory (`find -P` follows a link that is not the
 * last component) and try to run its files as the app's user ("Permission denied"). The uptests
 * directory is resolved and listed as the proc's user, and refused when it leads out of the tree.
 */

const host = new LocalHost("127.0.0.1");
const asRoot = process.getuid?.() === 0;
// The proc's user: `nobody` stands in for raptor-<app> (what asProcUser gives when reached as root).
const AS_NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--init-groups", "--"];
let tmp: string;

/** Records every argv and the user prefix it ran under. */
class RecordingHost implements Host {
  readonly calls: string[][] = [];
  constructor(private readonly inner: Host) {}
  get name(): string {
    return this.inner.name;
  }
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push([...argv]);
    return this.inner.exec(argv, opts);
  }
  upload(data: Parameters<Host["upload"]>[0], path: string, mode?: number): Promise<void> {
    return this.inner.upload(data, path, mode);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const script = (body: string) => `#!/bin/sh\n${body}\n`;

/** A proc dir owned by nobody; `private` is another app's 0700 dir (root's here) with uptests/web/http. */
function layout(name: string): { procDir: string; envFile: string; privateUptests: string } {
  const base = join(tmp, name);
  const procDir = join(base, "procs", "evil-local-v2-web-7503");
  const privateDir = join(base, "procs", "hello-local-v1-web-7500");
  mkdirSync(join(procDir, ".raptor"), { recursive: true });
  mkdirSync(join(privateDir, "uptests", "web"), { recursive: true });
  writeFileSync(join(privateDir, "uptests", "web", "http"), script("echo hello's private uptest; exit 0"), { mode: 0o755 });
  chmodSync(privateDir, 0o700);
  const envFile = join(procDir, ".raptor", "env");
  writeFileSync(envFile, "");
  chmodSync(base, 0o755);
  chmodSync(join(base, "procs"), 0o755);
  return { procDir, envFile, privateUptests: join(privateDir, "uptests") };
}

function giveToNobody(dir: string): void {
  execFileSync("chown", ["-R", "-h", "nobody:nogroup", dir]);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "raptor-uptest-links-"));
  chmodSync(tmp, 0o755);
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("isInside (pure)", () => {
  it.each([
    ["/apps/procs/a", "/apps/procs/a/uptests/web", true],
    ["/apps/procs/a", "/apps/procs/a", false],
    ["/apps/procs/a", "/apps/procs/ab/uptests/web", false],
    ["/apps/procs/a", "/apps/procs/b/uptests/web", false],
    ["/apps/procs/a/", "/apps/procs/a/x", true],
    ["/apps/procs/a", "/etc", false],
  ])("%s contains %s: %s", (root, path, inside) => {
    expect(isInside(root, path)).toBe(inside);
  });
});

describe.skipIf(!asRoot)("runUptests and links in the repo (as root, the proc run as nobody)", () => {
  it("an uptests link to another app's private directory is refused: nothing there is listed or run", async () => {
    const l = layout("out");
    symlinkSync(l.privateUptests, join(l.procDir, "uptests"));
    giveToNobody(l.procDir);
    const recording = new RecordingHost(host);
    const results = await runUptests(recording, { procDir: l.procDir, procType: "web", hostName: "127.0.0.1", port: 7503, envFile: l.envFile, deadlineMs: 500, asUser: AS_NOBODY });
    expect(results).toEqual([{ name: "uptests", passed: false, output: linkedOut("uptests/web"), exitCode: -1 }]);
    expect(results[0]!.output).toContain("uptests/web is a link out of the app's tree");
    // Nothing ran as root, and nothing reached the other app's files.
    for (const argv of recording.calls) expect(argv.slice(0, AS_NOBODY.length), argv.join(" ")).toEqual(AS_NOBODY);
    expect(recording.calls.some((argv) => argv.includes("find"))).toBe(false);
  });

  it("a link in the last component (uptests/web) out of the tree is refused the same way", async () => {
    const l = layout("last");
    mkdirSync(join(l.procDir, "uptests"));
    symlinkSync(join(l.privateUptests, "web"), join(l.procDir, "uptests", "web"));
    giveToNobody(l.procDir);
    const results = await runUptests(host, { procDir: l.procDir, procType: "web", hostName: "127.0.0.1", port: 7503, envFile: l.envFile, deadlineMs: 500, asUser: AS_NOBODY });
    expect(results).toEqual([{ name: "uptests", passed: false, output: linkedOut("uptests/web"), exitCode: -1 }]);
  });

  it("a link that stays inside the app (uptests -> test/uptests) is followed, and its uptests run as the proc's user", async () => {
    const l = layout("inside");
    mkdirSync(join(l.procDir, "test", "uptests", "web"), { recursive: true });
    writeFileSync(join(l.procDir, "test", "uptests", "web", "01_who"), script('echo "$(id -un) $1 $2"'), { mode: 0o755 });
    symlinkSync("test/uptests", join(l.procDir, "uptests"));
    giveToNobody(l.procDir);
    const results = await runUptests(host, { procDir: l.procDir, procType: "web", hostName: "127.0.0.1", port: 7503, envFile: l.envFile, deadlineMs: 5000, asUser: AS_NOBODY });
    expect(results).toEqual([{ name: "01_who", passed: true, output: "nobody 127.0.0.1 7503\n", exitCode: 0 }]);
  });

  it("without a drop to another user (host not reached as root) the link out is still refused", async () => {
    const l = layout("noroot");
    symlinkSync(l.privateUptests, join(l.procDir, "uptests"));
    const results = await runUptests(host, { procDir: l.procDir, procType: "web", hostName: "127.0.0.1", port: 7503, envFile: l.envFile, deadlineMs: 500 });
    expect(results).toEqual([{ name: "uptests", passed: false, output: linkedOut("uptests/web"), exitCode: -1 }]);
  });

  it("no uptests directory at all: no results (the health check is used)", async () => {
    const l = layout("none");
    giveToNobody(l.procDir);
    expect(await runUptests(host, { procDir: l.procDir, procType: "web", hostName: "127.0.0.1", port: 7503, envFile: l.envFile, deadlineMs: 500, asUser: AS_NOBODY })).toEqual([]);
  });
});


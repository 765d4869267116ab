import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecOptions, ExecResult, Host } from "../../runners/host.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { ProcError, ProcessRunner, type ProcSpec } from "../../runners/process-runner.ts";
import { buildTarballPath, ENV_FILE_LAUNCHER, expandRoot, procName, procPaths } from "../../runners/proc-layout.ts";
import type { Supervisor } from "../../runners/supervisor/types.ts";
import { runHealthcheck, runUptests } from "../../runners/uptest.ts";
import { freePort, startSupervisord, type OwnSupervisord } from "../support/supervisord.ts";
import { ENSURE_USER_SCRIPT } from "../../runners/proc-user.ts";
import { LAYOUT_SCRIPT } from "../../runners/host-layout.ts";

const HOST = "127.0.0.1";
const host = new LocalHost(HOST);
const runner = new ProcessRunner();
let tmp: string;
let squadRoot: string; // contains {host}, as a squad's root may
let root: string;
let own: OwnSupervisord;
let sup: Supervisor;
const build = { id: "b-test1", md5: "", localPath: "" };

/** A tiny app: an HTTP server on HOST:PORT that shows its env and settings, and its uptests. */
function makeBuild(dir: string): void {
  const src = join(dir, "src");
  mkdirSync(join(src, "uptests", "web"), { recursive: true });
  mkdirSync(join(src, "uptests", "bad"), { recursive: true });
  writeFileSync(
    join(src, "server.js"),
    `const http = require("http"); const fs = require("fs");
http.createServer((req, res) => {
  if (req.url === "/health") return res.end("ok");
  if (req.url === "/env") return res.end(JSON.stringify({ env: process.env, settings: fs.readFileSync(process.env.APP_SETTINGS_YAML, "utf8") }));
  res.statusCode = 404; res.end("no");
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening on " + process.env.HOST + ":" + process.env.PORT));
`,
  );
  const up = (body: string) => `#!/bin/sh\n${body}\n`;
  writeFileSync(join(src, "uptests", "web", "01_alive"), up(`node -e 'fetch("http://"+process.argv[1]+":"+process.argv[2]+"/health").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$1" "$2"`), { mode: 0o755 });
  writeFileSync(join(src, "uptests", "web", "02_env"), up(`test "$GREETING" = "hello world" && test -f "$APP_SETTINGS_YAML" && echo "env ok for $1:$2"`), { mode: 0o755 });
  writeFileSync(join(src, "uptests", "bad", "01_fails"), up(`echo "checking $1 $2"; echo "database unreachable" >&2; exit 3`), { mode: 0o755 });
  writeFileSync(join(src, "uptests", "bad", "02_not_executable"), up("exit 0"), { mode: 0o644 });
  build.localPath = join(dir, "build.tar.gz");
  execFileSync("tar", ["-czf", build.localPath, "-C", src, "."]);
  build.md5 = createHash("md5").update(readFileSync(build.localPath)).digest("hex");
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "raptor-pr-"));
  chmodSync(tmp, 0o711); // procs run as their app's user (raptor-<app>), who must pass through to their own dirs
  squadRoot = join(tmp, "hosts", "{host}");
  root = expandRoot(squadRoot, HOST);
  mkdirSync(join(root, "supervisor"), { recursive: true });
  makeBuild(tmp);
  // A program that is not ours: listProcs must ignore it, removeProc must not touch it.
  writeFileSync(join(root, "supervisor", "foreign.conf"), `[program:foreign]\ncommand=/bin/sleep 1000\nautostart=true\n`);
  own = await startSupervisord({ dir: tmp, include: `${root}/supervisor/*.conf`, host: HOST, timeoutMs: 10_000 });
  sup = own.sup;
});

afterAll(async () => {
  await own?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A Host that records what it is asked to run, then runs it on the real one. */
class RecordingHost implements Host {
  readonly calls: { argv: readonly string[]; opts?: ExecOptions }[] = [];
  constructor(private readonly inner: Host) {}
  get name(): string {
    return this.inner.name;
  }
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], opts });
    return this.inner.exec(argv, opts);
  }
  upload(data: Parameters<Host["upload"]>[0], path: string, mode?: number): Promise<void> {
    return this.inner.upload(data, path, mode);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A Supervisor that records the name of every call it passes to the real supervisord. */
function countingSupervisor(inner: Supervisor): { sup: Supervisor; calls: string[] } {
  const calls: string[] = [];
  const sup = new Proxy(inner, {
    get(target, key: keyof Supervisor) {
      const fn = target[key] as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return fn.apply(target, args);
      };
    },
  });
  return { sup, calls };
}

function spec(port: number | undefined, over: Partial<ProcSpec> = {}): ProcSpec {
  const procType = over.procType ?? "web";
  return {
    name: procName({ app: "my-app", env: "staging", release: 3, procType, port, index: 0 }),
    app: "my-app",
    env: "staging",
    procType,
    release: 3,
    port,
    hostName: HOST,
    root: squadRoot,
    build: { id: build.id, md5: build.md5 },
    cmd: "exec node server.js",
    config: { GREETING: "hello world", TRICKY: `it's "$(id)"\nnext line %(here)s` },
    settings: { db: { pool: 5 } },
    ...over,
  };
}

describe("ProcessRunner with LocalHost and a real supervisord", () => {
  it("uploads a build once, and again when the copy on the host is wrong", async () => {
    expect(await runner.uploadBuild(host, { buildId: build.id, md5: build.md5, localPath: build.localPath, root: squadRoot })).toEqual({ uploaded: true });
    expect(await runner.uploadBuild(host, { buildId: build.id, md5: build.md5, localPath: build.localPath, root: squadRoot })).toEqual({ uploaded: false });
    writeFileSync(buildTarballPath(root, build.id), "corrupt");
    expect(await runner.uploadBuild(host, { buildId: build.id, md5: build.md5, localPath: build.localPath, root: squadRoot })).toEqual({ uploaded: true });
  });

  it("starts a web proc: RUNNING, port answers, env and settings arrive, uptests pass", async () => {
    const s = spec(await freePort(HOST));
    await runner.startProc(host, sup, s);
    const info = await runner.waitRunning(sup, s.name, { timeoutMs: 15_000 });
    await runner.waitPort(host, { host: HOST, port: s.port!, timeoutMs: 10_000 });
    const body = (await (await fetch(`http://${HOST}:${s.port}/env`)).json()) as { env: Record<string, string>; settings: string };
    expect(body.env.PORT).toBe(String(s.port));
    expect(body.env.HOST).toBe(HOST);
    expect(body.env.TRICKY).toBe(s.config.TRICKY);
    expect(body.settings).toBe("db:\n  pool: 5\n");

    // Idempotent: the running proc is left alone.
    await runner.startProc(host, sup, s);
    expect((await runner.waitRunning(sup, s.name, { timeoutMs: 5000 })).pid).toBe(info.pid);

    const p = procPaths(root, s.name);
    // The uptests see the proc's env ($GREETING, APP_SETTINGS_YAML), read from its env file:
    // no config value is on any command line (ps shows argv to every user of the host).
    const recording = new RecordingHost(host);
    const results = await runUptests(recording, { procDir: p.dir, procType: "web", hostName: HOST, port: s.port, envFile: p.envFile, deadlineMs: 10_000 });
    expect(results).toEqual([
      { name: "01_alive", passed: true, output: "", exitCode: 0 },
      { name: "02_env", passed: true, output: `env ok for ${HOST}:${s.port}\n`, exitCode: 0 },
    ]);
    const uptestCalls = recording.calls.filter((c) => c.argv.some((a) => a.includes("/uptests/web/0")));
    expect(uptestCalls.map((c) => c.argv)).toEqual(
      ["01_alive", "02_env"].map((f) => ["/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "sh", "-c", ENV_FILE_LAUNCHER, "sh", p.envFile, `${p.dir}/uptests/web/${f}`, HOST, String(s.port)]),
    );
    for (const c of recording.calls) {
      expect(c.opts?.env, c.argv.join(" ")).toBeUndefined();
      for (const value of Object.values(s.config)) expect(c.argv.join("\n")).not.toContain(value);
    }
    expect(await runUptests(host, { procDir: p.dir, procType: "worker", hostName: HOST, port: s.port, envFile: p.envFile, deadlineMs: 1000 })).toEqual([]);

    expect(await runHealthcheck({ hostName: HOST, port: s.port!, path: "/health", deadlineMs: 2000 })).toMatchObject({ name: "healthcheck /health", passed: true, exitCode: 0 });
    const missing = await runHealthcheck({ hostName: HOST, port: s.port!, path: "/missing", deadlineMs: 300 });
    expect(missing).toMatchObject({ name: "healthcheck /missing", passed: false, exitCode: 404 });
    expect(missing.output).toContain("HTTP 404");

    const listed = await runner.listProcs(sup);
    expect(listed).toEqual([{ name: s.name, app: "my-app", env: "staging", release: 3, procType: "web", port: s.port, statename: "RUNNING", pid: info.pid }]);

    await runner.removeProc(host, sup, { name: s.name, root: squadRoot });
    expect((await sup.getAllProcessInfo()).map((i) => i.name)).toEqual(["foreign"]);
    expect(existsSync(p.dir)).toBe(false);
    expect(existsSync(p.supervisorConf)).toBe(false);
    await runner.removeProc(host, sup, { name: s.name, root: squadRoot }); // again: a no-op
  });

  it("failing uptests bring their output back, retried until the deadline", async () => {
    const s = spec(await freePort(HOST));
    await runner.startProc(host, sup, s);
    const p = procPaths(root, s.name);
    const started = Date.now();
    const results = await runUptests(host, { procDir: p.dir, procType: "bad", hostName: HOST, port: s.port, envFile: p.envFile, runTimeoutMs: 2000, deadlineMs: 800 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(results).toEqual([
      { name: "01_fails", passed: false, output: expect.stringMatching(new RegExp(`^checking ${HOST} ${s.port}\ndatabase unreachable\n01_fails did not pass within uptest_timeout 0\\.8s: gave up after \\d+\\.\\ds and \\d+ attempts\\.$`)), exitCode: 3 },
      { name: "02_not_executable", passed: false, output: expect.stringContaining("not executable"), exitCode: -1 },
    ]);
    await runner.removeProc(host, sup, { name: s.name, root: squadRoot });
  });

  it("a proc that exits at once fails waitRunning with the end of its log", async () => {
    const s = spec(undefined, { procType: "crash", cmd: `echo "boom: cannot start on $HOST"; exit 3` });
    await runner.startProc(host, sup, s);
    const err = await runner.waitRunning(sup, s.name, { timeoutMs: 15_000, host: HOST }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcError);
    expect((err as ProcError).code).toBe("proc_failed");
    expect((err as ProcError).message).toMatch(/was last seen (BACKOFF|FATAL|EXITED)/);
    expect((err as ProcError).output).toContain(`boom: cannot start on ${HOST}`);
    await runner.removeProc(host, sup, { name: s.name, root: squadRoot });
    expect((await sup.getAllProcessInfo()).map((i) => i.name)).toEqual(["foreign"]);
  });

  it("starting a proc that was laid out but stopped brings it back", async () => {
    const s = spec(await freePort(HOST));
    await runner.startProc(host, sup, s);
    await runner.waitRunning(sup, s.name, { timeoutMs: 15_000 });
    await runner.stopProc(host, sup, { name: s.name });
    await runner.stopProc(host, sup, { name: s.name });
    expect((await sup.getAllProcessInfo()).find((i) => i.name === s.name)?.statename).toBe("STOPPED");
    await runner.startProc(host, sup, s);
    await runner.waitRunning(sup, s.name, { timeoutMs: 15_000 });
    await runner.waitPort(host, { host: HOST, port: s.port!, timeoutMs: 10_000 });
    await runner.removeProc(host, sup, { name: s.name, root: squadRoot });
  });

  it("lays out several procs on a host with one remote command and one reloadConfig; startsecs reaches each program file", async () => {
    const ports = [await freePort(HOST), await freePort(HOST), await freePort(HOST)];
    const specs = ports.map((port) => spec(port, { startSecs: 0 }));
    specs.push(spec(undefined, { procType: "worker", cmd: "exec sleep 1000", startSecs: 2 }));
    const recording = new RecordingHost(host);
    const counted = countingSupervisor(sup);
    await runner.startProcs(recording, counted.sup, specs);
    // One look at supervisord, one reload, then add and start per proc; one command on the host.
    expect(counted.calls.filter((c) => c === "reloadConfig")).toHaveLength(1);
    expect(counted.calls.filter((c) => c === "getAllProcessInfo")).toHaveLength(1);
    expect(counted.calls.filter((c) => c === "addAndStart")).toHaveLength(1);
    // Besides what is asked once per host and process (`id -u`, making sure the app's user exists).
    expect(recording.calls.filter((c) => c.argv[0] !== "id" && c.argv[2] !== ENSURE_USER_SCRIPT)).toHaveLength(1);
    const layout = recording.calls.find((c) => c.argv[2] === LAYOUT_SCRIPT)!;
    // Config values travel in the archive on stdin, never on the command line.
    for (const value of Object.values(specs[0]!.config)) expect(layout.argv.join("\n")).not.toContain(value);

    for (const s of specs) {
      const p = procPaths(root, s.name);
      expect(readFileSync(p.supervisorConf, "utf8")).toContain(`\nstartsecs=${s.startSecs}\n`);
      expect(readFileSync(p.envFile, "utf8")).toContain("export GREETING='hello world'\n");
      expect(existsSync(`${p.dir}/server.js`)).toBe(true);
    }
    // The worker's startsecs=2 holds it in STARTING for two seconds after its spawn, as supervisord means it.
    const worker = await runner.waitRunning(sup, specs[3]!.name, { timeoutMs: 15_000 });
    expect(Date.now() / 1000 - worker.start).toBeGreaterThanOrEqual(1.9);
    const infos = await Promise.all(specs.slice(0, 3).map((s) => runner.waitRunning(sup, s.name, { timeoutMs: 15_000 })));
    expect(infos.map((i) => i.statename)).toEqual(["RUNNING", "RUNNING", "RUNNING"]);
    await Promise.all(specs.slice(0, 3).map((s) => runner.waitPort(host, { host: HOST, port: s.port!, timeoutMs: 10_000 })));

    // Again: every proc is RUNNING, so nothing is written and supervisord is not reloaded.
    counted.calls.length = 0;
    recording.calls.length = 0;
    await runner.startProcs(recording, counted.sup, specs);
    expect(counted.calls).toEqual(["getAllProcessInfo"]);
    expect(recording.calls).toEqual([]);
    // Removed together: stops sent at once, one rm for all their files; again is a no-op.
    recording.calls.length = 0;
    await runner.removeProcs(recording, sup, { names: specs.map((s) => s.name), root: squadRoot });
    expect(recording.calls.map((c) => c.argv[0])).toEqual(["rm"]);
    expect((await sup.getAllProcessInfo()).map((i) => i.name)).toEqual(["foreign"]);
    for (const s of specs) expect(existsSync(procPaths(root, s.name).dir)).toBe(false);
    await runner.removeProcs(host, sup, { names: specs.map((s) => s.name), root: squadRoot });
  });

  it("a layout that fails on the host says so and leaves no staged files (they hold config)", async () => {
    const s = spec(await freePort(HOST), { build: { id: "b-missing", md5: "0" } });
    const err = await runner.startProcs(host, sup, [s]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcError);
    expect((err as ProcError).message).toMatch(new RegExp(`laying out proc ${s.name} on ${HOST} failed \\(exit \\d+\\): .*b-missing\\.tar\\.gz`));
    expect(readdirSync(root).filter((f) => f.startsWith(".layout-"))).toEqual([]);
    expect(existsSync(procPaths(root, s.name).supervisorConf)).toBe(false);
    await runner.removeProc(host, sup, { name: s.name, root: squadRoot });
  });

  it("waitPort fails when nothing listens", async () => {
    const port = await freePort(HOST);
    await expect(runner.waitPort(host, { host: HOST, port, timeoutMs: 300 })).rejects.toThrow(`nothing accepts connections on ${HOST}:${port}`);
  });
});

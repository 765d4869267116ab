import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SCRIPTS = resolve(import.meta.dirname, "../../scripts");

/** Another user's daemon on a shared machine: a python3 http.server on a port of its own choosing. */
async function holder(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"], { stdio: ["ignore", "pipe", "ignore"] });
  const port = await new Promise<number>((done, fail) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /port (\d+)/.exec(out);
      if (m) done(Number(m[1]));
    });
    child.once("exit", (code) => fail(new Error(`http.server exited (${code}) before listening`)));
  });
  return { child, port };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => done({ code, stderr }));
  });
}

/**
 * New-user trial on a shared machine (issue 11): another user's supervisord held 127.0.0.1:9001.
 * make run printed "starting supervisord" then supervisord's own error naming nothing; the next
 * make run took that supervisord (answering 401) for its own, and nginx then failed on 8080.
 */
describe("make run's demo when its ports are held by another program", () => {
  let sup: { child: ChildProcess; port: number };
  let ngx: { child: ChildProcess; port: number };
  beforeAll(async () => {
    [sup, ngx] = await Promise.all([holder(), holder()]);
  });
  afterAll(() => {
    sup?.child.kill();
    ngx?.child.kill();
  });

  it("stops before starting anything, naming each port, its holder and the variable to set", async () => {
    const data = await mkdtemp(join(tmpdir(), "raptor-democlash-"));
    try {
      // Even with a stale pid file of ours: the pid holding the port is not it.
      await mkdir(join(data, "supervisord"), { recursive: true });
      await writeFile(join(data, "supervisord", "supervisord.pid"), "999999\n");
      const env = { ...process.env, RAPTOR_DATA: data, RAPTOR_SUPERVISOR_PORT: String(sup.port), RAPTOR_NGINX_PORT: String(ngx.port) };
      const { code, stderr } = await run(join(SCRIPTS, "demo.sh"), [], env);
      expect(code).toBe(1);
      expect(stderr).not.toMatch(/starting/);
      const lines = stderr.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^make run: port ${sup.port} is held by python3 \\(pid ${sup.child.pid}\\); set RAPTOR_SUPERVISOR_PORT=\\d+ \\(free now\\)`));
      expect(lines[1]).toMatch(new RegExp(`^make run: port ${ngx.port} is held by python3 \\(pid ${ngx.child.pid}\\); set RAPTOR_NGINX_PORT=\\d+ \\(free now\\)`));
    } finally {
      await rm(data, { recursive: true, force: true });
      await rm(`${data}-demo`, { recursive: true, force: true });
    }
  }, 30_000);

  it("takes the port for make run's own daemon only when the pid in its pid file holds it", async () => {
    const check = join(SCRIPTS, "port-check.sh");
    expect(await run(check, [String(sup.port), "RAPTOR_SUPERVISOR_PORT", String(sup.child.pid)])).toEqual({ code: 3, stderr: "" });
    expect((await run(check, [String(sup.port), "RAPTOR_SUPERVISOR_PORT", String(ngx.child.pid)])).code).toBe(1);
  }, 30_000);
});

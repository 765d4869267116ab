import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeAppRepo, HELLO_APP } from "../support/app-repo.ts";
import { REDIS_URL } from "../support/raptor-harness.ts";
import { runRaptor, startRaptor } from "../support/spawn-raptor.ts";

/** A loopback port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * New-user trial, finding 11: after `make stop`, `bin/raptor say "deploy hello local"` warned, then
 * built, cut v17 and failed 8.4 s later at start with advice for a production server. With nothing
 * else running, say runs the deployment itself; when its squad's supervisord on this machine does
 * not answer, it now refuses at once, names `make run`, and asks for nothing.
 */
describe("raptor say with make run stopped (embedded, no worker, the demo's supervisord down)", () => {
  let env: Record<string, string>;
  let port: number;

  beforeAll(async () => {
    const repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    const dir = await mkdtemp(join(tmpdir(), "raptor-demo-down-"));
    port = await closedPort();
    await mkdir(join(dir, "pb"));
    await writeFile(
      join(dir, "pb", "all.yaml"),
      [
        "squads:",
        "  local:",
        "    hosts: [127.0.0.1]",
        "    transport: local",
        `    supervisor: { url: "http://127.0.0.1:${port}/RPC2", username: raptor, password: raptor }`,
        "    ports: 7000-7099",
        `    root: ${JSON.stringify(join(dir, "hosts", "{host}"))}`,
        "apps:",
        "  hello:",
        `    repo: ${JSON.stringify(repo.path)}`,
        "    environments:",
        "      local: { squad: local, size: { web: 1 } }",
      ].join("\n"),
    );
    env = { DATABASE_URL: "", REDIS_URL, RAPTOR_PREFIX: `down${process.pid}:`, RAPTOR_PLAYBOOKS: join(dir, "pb"), RAPTOR_DATA: join(dir, "data"), RAPTOR_METRICS_PORT: "off" };
  }, 60_000);

  it("deploy hello local is refused at once with make run as the fix; no release is cut, nothing is queued", { timeout: 120_000 }, async () => {
    const r = await runRaptor(["say", "deploy hello local"], env, { timeoutMs: 90_000 });
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain(
      `✗ make run is not running, so the demo's supervisord (127.0.0.1:${port}) is not either and deploy hello local could not start a proc. Start it with make run in another terminal, then try again. Nothing was queued.`,
    );
    expect(r.out).not.toMatch(/build|release|supervisord is not reachable/);
    // Said once, not also as the warning before it.
    expect(r.err).not.toContain("raptor say: make run is not running");
    const deploys = await runRaptor(["say", "deploys hello local"], env, { timeoutMs: 90_000 });
    expect(deploys.out, deploys.err).toContain("no deployments of hello local were asked for");
    const releases = await runRaptor(["say", "releases hello local"], env, { timeoutMs: 90_000 });
    expect(releases.out).not.toMatch(/\bv1\b/);
  });

  it("a command that reads (status) still runs, with the warning", { timeout: 90_000 }, async () => {
    const r = await runRaptor(["say", "status hello local"], env, { timeoutMs: 60_000 });
    expect(r.err).toContain("raptor say: make run is not running");
    expect(r.out).toContain("hello local");
  });

  // The same finding's cleanup: "removed 0 new procs" and then the procs it could not remove.
  it("with a worker of its own elsewhere, the deployment runs and fails at start; its cleanup never says removed 0", { timeout: 180_000 }, async () => {
    const worker = startRaptor(["worker"], env);
    try {
      for (let i = 0; !/ready: the worker takes jobs/.test(worker.output()); i++) {
        if (worker.child.exitCode !== null || i > 900) throw new Error(`raptor worker did not start:\n${worker.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await runRaptor(["say", "deploy hello local"], env, { timeoutMs: 150_000 });
      expect(r.code, r.out + r.err).toBe(1);
      expect(r.out).toMatch(/✗ Deploy hello local failed at start/);
      expect(r.out).toMatch(/could not remove hello-local-v\d+-web-\d+ on 127\.0\.0\.1/);
      expect(r.out).not.toContain("removed 0");
    } finally {
      await worker.stop();
    }
  });
});

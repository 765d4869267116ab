import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDb } from "../support/db.ts";
import { REDIS_URL } from "../support/raptor-harness.ts";

const ROOT = resolve(import.meta.dirname, "../..");

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => done({ code: code ?? -1, out, err }));
  });
}

/** Production runs the tsc output with plain node: no tsx, nothing read from the TypeScript sources. */
describe("compiled raptor (scripts/build.sh)", () => {
  let out: string;
  let databaseUrl: string;

  beforeAll(async () => {
    // Inside the project, so the output resolves the project's node_modules as dist/ does.
    await mkdir(join(ROOT, ".raptor"), { recursive: true });
    out = await mkdtemp(join(ROOT, ".raptor", "dist-"));
    const built = await run("./scripts/build.sh", [out]);
    expect(built.code, built.err).toBe(0);
    const db = await freshDb();
    databaseUrl = db.url;
    await db.close();
  }, 300_000);

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("answers a command with node alone, migrations and shipped buildpacks found beside the output", async () => {
    const r = await run("node", [join(out, "bin/raptor.js"), "say", "apps"], {
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      RAPTOR_DATA: join(out, "data"),
      RAPTOR_PLAYBOOKS: join(ROOT, "playbooks/examples"),
    });
    expect(r.err).not.toMatch(/tsx|ERR_UNKNOWN_FILE_EXTENSION|Cannot find module/);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("hello");
  }, 120_000);
});

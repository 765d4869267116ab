import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { configFromEnv, createRuntime } from "../../bin/runtime.ts";
import { freshDb } from "../support/db.ts";
import { freePort } from "../support/supervisord.ts";
import { openDb } from "../../db/client.ts";
import { asNobody } from "../support/as-nobody.ts";

const exec = promisify(execFile);
const SCRIPTS = resolve(import.meta.dirname, "../../scripts");

describe("Raptor's data (RAPTOR_DATA, raptor.log, the demo's Redis) is out of reach of procs on the same machine", () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), "raptor-private-"));
    await chmod(d, 0o755); // as a checkout or /var/lib would be: others may pass through
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("an existing 0755 data dir with a 0644 raptor.log (an older install) becomes 0700 with a 0600 log at start; `nobody` lists and reads nothing of it", async () => {
    const base = await tmp();
    const data = join(base, "data");
    await mkdir(data, { mode: 0o755 });
    await chmod(data, 0o755);
    await writeFile(join(data, "raptor.log"), "an old line\n", { mode: 0o644 });
    await chmod(join(data, "raptor.log"), 0o644);
    const pb = join(base, "pb");
    await mkdir(pb);
    await writeFile(join(pb, "pb.yaml"), "squads: {}\napps: {}\n");
    const db = await freshDb();
    const rt = await createRuntime(configFromEnv({ RAPTOR_DATA: data, RAPTOR_PLAYBOOKS: pb, DATABASE_URL: db.url, REDIS_URL: "redis://127.0.0.1:6379" }));
    try {
      expect((await stat(data)).mode & 0o777).toBe(0o700);
      expect((await stat(join(data, "raptor.log"))).mode & 0o777).toBe(0o600);
      const ls = await asNobody(["ls", "--", data]);
      expect(ls.code).not.toBe(0);
      expect(ls.out).toContain("Permission denied");
      const cat = await asNobody(["cat", "--", join(data, "raptor.log")]);
      expect(cat.code).not.toBe(0);
      expect(cat.out).not.toContain("an old line");
    } finally {
      await rt.close();
      await db.close();
    }
  });

  it("`make run`'s Redis (scripts/demo-redis.sh) has no TCP port and a socket only root opens; Raptor (and `raptor say` beside it) use it when REDIS_URL is unset", async () => {
    const data = join(await tmp(), "data");
    const env = { ...process.env, RAPTOR_DATA: data };
    await exec(join(SCRIPTS, "demo-redis.sh"), [], { env });
    const sock = join(data, "redis", "redis.sock");
    try {
      expect((await exec("redis-cli", ["-s", sock, "ping"])).stdout.trim()).toBe("PONG");
      expect((await exec("redis-cli", ["-s", sock, "config", "get", "port"])).stdout.split("\n")[1]).toBe("0");
      expect((await stat(data)).mode & 0o777).toBe(0o700);
      expect(configFromEnv({ RAPTOR_DATA: data }).redisUrl).toBe(sock);
      expect(configFromEnv({ RAPTOR_DATA: data, REDIS_URL: "redis://10.0.0.9:6379" }).redisUrl).toBe("redis://10.0.0.9:6379");
      // What a proc of the demo would try: the Redis Raptor uses, as another user.
      const probe = await asNobody(["redis-cli", "-s", configFromEnv({ RAPTOR_DATA: data }).redisUrl, "ping"]);
      expect(probe.out).not.toContain("PONG");
      expect(probe.out).toContain("Permission denied");
      // Its files (the append-only file holds job data) are 0600.
      const aof = join(data, "redis", "appendonlydir");
      for (const f of await readdir(aof)) expect((await stat(join(aof, f))).mode & 0o777, f).toBe(0o600);
      expect((await stat(join(data, "redis", "redis.log"))).mode & 0o777).toBe(0o600);
      // Started again: nothing new, the running one answers.
      await exec(join(SCRIPTS, "demo-redis.sh"), [], { env });
      expect(await readdir(join(data, "redis"))).toContain("redis.pid");
    } finally {
      await exec("redis-cli", ["-s", sock, "shutdown", "nosave"]).catch(() => undefined);
    }
  });

  it("`make run`'s daemons (scripts/demo.sh): supervisord's XML-RPC refuses the well-known demo password (a random one, 0600, that Raptor reads); procs' dirs are outside the 0700 data dir; make stop stops Redis too", async () => {
    const data = join(await tmp(), "data");
    const [supPort, nginxPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, RAPTOR_DATA: data, RAPTOR_SUPERVISOR_PORT: String(supPort), RAPTOR_NGINX_PORT: String(nginxPort) };
    delete env.RAPTOR_SUPERVISOR_PASSWORD;
    await exec(join(SCRIPTS, "demo.sh"), [], { env });
    try {
      expect((await stat(data)).mode & 0o777).toBe(0o700);
      const pwfile = join(data, "supervisord", "password");
      expect((await stat(pwfile)).mode & 0o777).toBe(0o600);
      const password = (await readFile(pwfile, "utf8")).trim();
      expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
      // What a proc would try: the XML-RPC port with the password every clone of Raptor knows.
      const call = (auth: string) =>
        asNobody(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", auth, "-d", '<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName></methodCall>', `http://127.0.0.1:${supPort}/RPC2`]);
      expect((await call("raptor:raptor")).out).toBe("401");
      expect((await exec("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", `raptor:${password}`, "-d", "<methodCall><methodName>supervisor.getState</methodName></methodCall>", `http://127.0.0.1:${supPort}/RPC2`])).stdout).toBe("200");
      const demoEnv: NodeJS.ProcessEnv = { RAPTOR_DATA: data };
      const config = configFromEnv(demoEnv);
      expect(demoEnv.RAPTOR_SUPERVISOR_PASSWORD).toBe(password);
      expect(config.redisUrl).toBe(join(data, "redis", "redis.sock"));
      // The demo host's root, where procs' dirs go: reachable by other users, beside the data dir.
      expect((await asNobody(["test", "-x", join(`${data}-demo`, "hosts", "127.0.0.1")])).code).toBe(0);
    } finally {
      const stop = await exec(join(SCRIPTS, "stop.sh"), [], { env });
      expect(stop.stdout).toContain("stop: stopped supervisord");
      expect(stop.stdout).toContain("stop: stopped nginx");
      expect(stop.stdout).toContain(`stop: stopped redis`);
      await rm(`${data}-demo`, { recursive: true, force: true });
    }
  });

  it("the embedded database (PGlite, served to Raptor's own processes) answers no other user: not on its socket file, not on the abstract lock whose name /proc/net/unix shows", async () => {
    const data = join(await tmp(), "data");
    await mkdir(data, { mode: 0o700 });
    await chmod(data, 0o700);
    const db = await openDb({ dataDir: join(data, "pglite") });
    try {
      // Raptor itself is served: a query through the handle works.
      expect(await db.db.execute("select 1 as one")).toBeTruthy();
      const probe = await asNobody(["node", join(import.meta.dirname, "hostile", "pg-socket-probe.mjs"), join(data, "pglite.sock")]);
      const lines = probe.out.trim().split("\n").map((l) => JSON.parse(l) as { target?: string; result?: string; probed?: number });
      // This database's abstract socket (other processes on the machine may have their own).
      const abstract = `@raptor-pglite-${createHash("sha1").update(join(data, "pglite")).digest("hex").slice(0, 20)}`;
      const mine = lines.filter((l) => l.target === abstract || l.target === join(data, "pglite.sock"));
      // It found this database's abstract socket and its socket file, and neither answered.
      expect(mine.map((l) => l.target).sort()).toEqual([abstract, join(data, "pglite.sock")].sort());
      for (const l of mine) expect(l.result, JSON.stringify(l)).not.toMatch(/^answered/);
      expect(mine.find((l) => l.target === join(data, "pglite.sock"))!.result).toBe("refused: EACCES");
    } finally {
      await db.close();
    }
  }, 120_000);
});

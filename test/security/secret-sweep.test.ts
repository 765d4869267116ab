import { execFile, spawn } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastKnownRedactor, redactingLogger } from "../../engine/redact.ts";
import { makeAppRepo, HELLO_APP, type AppRepo } from "../support/app-repo.ts";
import { bedEnv, playbookYaml } from "../support/playbook-yaml.ts";
import { REDIS_URL, startHarness, type Harness } from "../support/raptor-harness.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

const exec = promisify(execFile);
/** Planted in the playbook through ${SWEEP_API_TOKEN}, and with `config set`. */
const PLAYBOOK_SECRET = "sweep-playbook-secret-0b7e41";
const CONFIG_SECRET = "sweep-config-password-5c93aa";
const SECRETS = [PLAYBOOK_SECRET, CONFIG_SECRET];

async function filesUnder(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p, keep)));
    else if (e.isFile() && keep(p)) out.push(p);
  }
  return out;
}

/** Every value Redis holds under `prefix`, whatever the key's type (BullMQ jobs are hashes, events streams). */
async function redisDump(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  for (const key of await redis.keys(`${prefix}*`)) {
    const type = await redis.type(key);
    if (type === "string") parts.push(key, String(await redis.get(key)));
    else if (type === "hash") parts.push(key, JSON.stringify(await redis.hgetall(key)));
    else if (type === "list") parts.push(key, JSON.stringify(await redis.lrange(key, 0, -1)));
    else if (type === "set") parts.push(key, JSON.stringify(await redis.smembers(key)));
    else if (type === "zset") parts.push(key, JSON.stringify(await redis.zrange(key, "0", "-1")));
    else if (type === "stream") parts.push(key, JSON.stringify(await redis.xrange(key, "-", "+")));
  }
  return parts.join("\n");
}

describe("planted secrets appear nowhere Raptor stores, logs or says", () => {
  let bed: Testbed;
  let repo: AppRepo;
  let h: Harness;
  const saved = { token: process.env.SWEEP_API_TOKEN, key: process.env.RAPTOR_SECRET_KEY };
  const chat: string[] = [];
  const psSamples: string[] = [];
  let sampling = true;
  let sampler: Promise<void>;

  beforeAll(async () => {
    process.env.SWEEP_API_TOKEN = PLAYBOOK_SECRET;
    process.env.RAPTOR_SECRET_KEY = "sweep-test-key";
    bed = await startTestbed({ hosts: 1 });
    repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
    h = await startHarness({
      playbookYaml: {
        "pb.yaml": playbookYaml([bed.squadYaml("bed")], {
          hello: {
            // The repo URL carries the token too, as `https://x:${GIT_TOKEN}@...` would.
            repo: repo.path,
            environments: {
              prod: bedEnv(1, "hello_prod", { env: { API_TOKEN: "${SWEEP_API_TOKEN}" } }),
              // A release hook that prints the secret and fails: the failure's evidence travels everywhere.
              broken: bedEnv(1, "hello_broken", { env: { API_TOKEN: "${SWEEP_API_TOKEN}" }, release_hook: ["sh", "-c", 'echo "hook has $API_TOKEN and $DB_PASSWORD" >&2; exit 3'] }),
            },
          },
        }),
      },
    });
    // raptor.log as the runtime writes it: pino to a file, behind the redacting logger.
    h.engine.logger = redactingLogger(pino({ level: "debug" }, pino.destination({ dest: join(h.dataDir, "raptor.log"), sync: true })), () => lastKnownRedactor(h.engine));
    sampler = (async () => {
      while (sampling) {
        psSamples.push((await exec("ps", ["-eo", "pid,args", "--no-headers"], { maxBuffer: 8 << 20 })).stdout);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }, 120_000);
  afterAll(async () => {
    sampling = false;
    await sampler;
    // What a worker logs when a job fails carries its error text: the log file gets it redacted.
    h.engine.logger.warn({ err: `release hook failed: token ${PLAYBOOK_SECRET}, password ${CONFIG_SECRET}` }, `deployment job attempt failed (${CONFIG_SECRET})`);
    await h?.close();
    await bed?.stop();
    for (const [k, v] of [["SWEEP_API_TOKEN", saved.token], ["RAPTOR_SECRET_KEY", saved.key]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("deploys, sets a secret, fails a deploy whose hook prints them, then finds them in no dump, log, process list or message", async () => {
    const say = async (text: string) => {
      const r = await h.say(text);
      chat.push(r.text);
      return r;
    };
    expect((await say("deploy hello prod")).final?.type).toBe("deployment.succeeded");
    expect((await say(`config set hello prod DB_PASSWORD=${CONFIG_SECRET}`)).final?.type).toBe("deployment.succeeded");
    const failed = await say("deploy hello broken");
    expect(failed.final?.type).toBe("deployment.failed");
    expect(failed.text).toContain("hook has [REDACTED] and");
    chat.push((await say("config hello prod")).text, (await say("logs hello prod")).text, (await say("status hello")).text);
    sampling = false;
    await sampler;
    // What a worker logs when a job fails carries its error text: the log file gets it redacted.
    h.engine.logger.warn({ err: `release hook failed: token ${PLAYBOOK_SECRET}, password ${CONFIG_SECRET}` }, `deployment job attempt failed (${CONFIG_SECRET})`);

    // The secrets did reach the procs (so the sweep below is not vacuous).
    const envFiles = await filesUnder(bed.dir, (p) => p.endsWith("/.raptor/env"));
    const envText = (await Promise.all(envFiles.map((f) => readFile(f, "utf8")))).join("\n");
    expect(envText).toContain(PLAYBOOK_SECRET);
    expect(envText).toContain(CONFIG_SECRET);

    const dbUrl = h.env.DATABASE_URL!;
    const dump = (await exec("pg_dump", ["--data-only", dbUrl], { maxBuffer: 64 << 20 })).stdout;
    expect(dump).toContain("enc:v1:"); // config values sealed
    const redis = new Redis(REDIS_URL);
    const jobs = await redisDump(redis, h.env.RAPTOR_PREFIX!);
    await redis.quit();
    expect(jobs.length).toBeGreaterThan(0);
    const logs = await filesUnder(h.dataDir, (p) => p.endsWith(".log"));
    const bedLogs = await filesUnder(bed.dir, (p) => /\.log(\.\d+)?$/.test(p));
    expect(logs.map((p) => p.slice(h.dataDir.length))).toContain("/raptor.log");
    expect((await stat(join(h.dataDir, "raptor.log"))).size).toBeGreaterThan(0);
    const logText = (await Promise.all([...logs, ...bedLogs].map((f) => readFile(f, "utf8")))).join("\n");
    expect(psSamples.length).toBeGreaterThan(10);

    const places: Record<string, string> = { "pg_dump": dump, "redis": jobs, "log files": logText, "ps": psSamples.join("\n"), "chat": chat.join("\n") };
    for (const [where, text] of Object.entries(places)) {
      for (const s of SECRETS) expect(text.includes(s), `${s} found in ${where}`).toBe(false);
    }
  }, 240_000);
});

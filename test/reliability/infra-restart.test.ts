/**
 * Reliability: the Redis and the Postgres Raptor depends on are restarted (as a service manager
 * restarts them) in the middle of a deployment, and Postgres between two deployments, while HTTP
 * load runs through a real nginx. Raptor reconnects, every deployment ends, nothing it recorded is
 * lost, no request fails, and supervisord, the database and the pool agree at the end.
 * Both servers are this file's own (test/support/own-services.ts): the shared ones are not touched.
 */
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followDeployment } from "../../engine/events.ts";
import { silentLogger } from "../../lib/logger.ts";
import { watchRedis } from "../../lib/redis-watch.ts";
import { liveProcRows, nodesOf, poolNodes, runningProgramsOf, supervisedPrograms } from "../support/fleet-probe.ts";
import { startLoad, type Load } from "../support/http-load.ts";
import { startNginxBed, type NginxBed } from "../support/nginx-bed.ts";
import { startOwnPostgres, startOwnRedis, type OwnService } from "../support/own-services.ts";
import { httpGet, startHarness, type Harness } from "../support/raptor-harness.ts";

const FINAL = ["succeeded", "failed", "cancelled"];

/**
 * Short on purpose: the nginx balancer confirms its reload and a removal waits for the old workers
 * to exit, so no request depends on the drain outlasting the reload. With a timed drain alone,
 * 300 ms let 2 of 1,380 requests get 502 under load (the old workers still routed to old nodes).
 */
const DRAIN_MS = 300;

describe("Redis and Postgres restarted under a deployment, under load through nginx", () => {
  let nb: NginxBed;
  let redis: OwnService;
  let pg: OwnService;
  let h: Harness;
  let sql: postgres.Sql;
  let load: Load;
  let version = 1;

  beforeAll(async () => {
    [nb, redis, pg] = await Promise.all([startNginxBed(), startOwnRedis(), startOwnPostgres()]);
    h = await startHarness({
      redisUrl: redis.url,
      databaseUrl: pg.url,
      options: { drainMs: DRAIN_MS, startTimeoutMs: 20_000 },
      playbookYaml: { "pb.yaml": nb.playbookYaml({ size: { web: 2 }, drain: `${DRAIN_MS}ms`, uptest_timeout: "20s" }) },
    });
    sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    load = startLoad(nb.nginx.url("/"), { concurrency: 2, pauseMs: 10 });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await sql?.end({ timeout: 1 }).catch(() => {});
    await h?.close().catch(() => {});
    await Promise.all([nb?.stop(), redis?.stop(), pg?.stop()]);
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** Requests a deploy of a new commit; resolves its id once step `at` has started (seen on the event stream). */
  async function deployUntil(at: string): Promise<{ id: string; marker: string }> {
    version++;
    await nb.repo.commit({ VERSION: `v${version}\n` }, `v${version}`);
    const reply = await h.say("deploy hello prod", { follow: false });
    if (reply.reply.kind !== "deployment") throw new Error(reply.text);
    const { deploymentId: id, since } = reply.reply;
    const tap = new Redis(redis.url, { maxRetriesPerRequest: null });
    const stop = new AbortController();
    await followDeployment(tap, h.engine.prefix, id, (e) => void (e.type === "step.started" && e.step === at && stop.abort()), { from: since, signal: stop.signal });
    tap.disconnect();
    return { id, marker: `hello from v${version}` };
  }
  /** Waits for the deployment's row to end (read from Postgres, which outlives every restart). */
  const ended = (id: string) =>
    until(`deployment ${id} to end`, async () => {
      const [row] = await sql`select status, error from deployments where id = ${id}`;
      // The row ends a moment before its final event is written: wait for both.
      const [final] = await sql`select 1 from deployment_events where deployment_id = ${id} and type in ('deployment.succeeded', 'deployment.failed', 'deployment.cancelled')`;
      return row && final && FINAL.includes(row.status as string) ? (row as unknown as { status: string; error: string | null }) : undefined;
    }, 120_000);
  /** Every event type the deployment recorded, in order. */
  const recorded = async (id: string) => (await sql`select type, data from deployment_events where deployment_id = ${id} order by id`).map((e) => (e.type === "step.started" || e.type === "step.finished" ? `${e.type}:${(e.data as { step: string }).step}` : (e.type as string)));

  /** The fleet agrees with the database and the pool, and serves `marker` on every proc and through nginx. */
  async function consistent(marker: string): Promise<void> {
    const rows = await liveProcRows(h, "hello", "prod");
    expect(rows).toHaveLength(2);
    expect(await supervisedPrograms(nb.bed)).toEqual(runningProgramsOf(rows));
    expect(await poolNodes(h, "edge", "hello_prod")).toEqual(nodesOf(rows));
    for (const p of rows) expect(await httpGet(p.host, p.port!)).toContain(marker);
    expect(await httpGet(nb.nginx.address, nb.nginx.port)).toContain(marker);
  }
  /** Each step started and finished once in the record, in pipeline order, and the deployment succeeded. */
  function wholeRecord(types: string[]): void {
    const steps = ["resolve", "build", "release", "start", "uptest", "route", "teardown"];
    expect(types.filter((t) => t.startsWith("step.finished:"))).toEqual(steps.map((s) => `step.finished:${s}`));
    expect(types.at(-1)).toBe("deployment.succeeded");
  }

  it("Redis restarted while `start` runs: Raptor reconnects, the deployment ends as succeeded, its thread whole", { timeout: 150_000 }, async () => {
    // What an operator's log shows of the outage: one line down, one line back (not one per retry).
    const logged: string[] = [];
    const record = (level: string) => (_: object, msg?: string) => void logged.push(`${level}: ${msg}`);
    const watched = watchRedis(new Redis(redis.url), { ...silentLogger, warn: record("warn"), info: record("info") }, "probe");
    await watched.ping();
    const { id, marker } = await deployUntil("start");
    await redis.restart({ downMs: 1_000 });
    const row = await ended(id);
    expect(row.status, row.error ?? "").toBe("succeeded");
    wholeRecord(await recorded(id));
    // The thread people follow is read from Redis: after the restart it still holds every event.
    const seen: string[] = [];
    const tap = new Redis(redis.url, { maxRetriesPerRequest: null });
    await followDeployment(tap, h.engine.prefix, id, (e) => void seen.push(e.type));
    tap.disconnect();
    expect(seen.at(-1)).toBe("deployment.succeeded");
    expect(seen.length).toBe((await recorded(id)).length);
    await consistent(marker);
    expect(logged).toEqual(["warn: Redis is unreachable; reconnecting", "info: Redis is reachable again"]);
    watched.disconnect();
  });

  it("Postgres restarted between two deployments: the next one goes through", { timeout: 150_000 }, async () => {
    await pg.restart({ downMs: 500 });
    version++;
    await nb.repo.commit({ VERSION: `v${version}\n` }, `v${version}`);
    const r = await h.say("deploy hello prod");
    expect(r.final?.type, r.text).toBe("deployment.succeeded");
    await consistent(`hello from v${version}`);
  });

  it("Postgres restarted while `start` runs: the deployment ends as succeeded and nothing it recorded is lost", { timeout: 150_000 }, async () => {
    const { id, marker } = await deployUntil("start");
    await pg.restart({ downMs: 1_000 });
    const row = await ended(id);
    expect(row.status, row.error ?? "").toBe("succeeded");
    wholeRecord(await recorded(id));
    await consistent(marker);
  });

  it("no request through nginx failed across the restarts", async () => {
    const report = await load.stop();
    if (process.env.RAPTOR_TEST_LOG) console.log(`load through nginx: ${report.failed} of ${report.sent} requests failed`);
    expect(report.sent).toBeGreaterThan(100);
    expect(report.failures, `${report.failed} of ${report.sent} failed`).toEqual([]);
  });
});

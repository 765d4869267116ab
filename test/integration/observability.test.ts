import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { drizzle } from "drizzle-orm/postgres-js";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackApp, type SlackApp } from "../../bot/slack/app.ts";
import type { Db, DbHandle } from "../../db/client.ts";
import { createMetrics } from "../../engine/metrics.ts";
import { checkHealth, observabilityRoutes, serveObservability } from "../../engine/observe.ts";
import { Queues } from "../../engine/queues.ts";
import { silentLogger } from "../../lib/logger.ts";
import { freshDb } from "../support/db.ts";
import { FakeDispatch } from "../support/fake-dispatch.ts";
import { FakeSlack } from "../support/fake-slack.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Nothing listens there: connecting is refused at once. */
const CLOSED = "127.0.0.1:1";

let db: DbHandle;
let redis: Redis;
let deadRedis: Redis;
const servers: Server[] = [];

beforeAll(async () => {
  db = await freshDb();
  redis = new Redis(REDIS_URL);
  await redis.ping();
  deadRedis = new Redis(`redis://${CLOSED}`, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  deadRedis.on("error", () => {});
});

afterAll(async () => {
  for (const s of servers) s.close();
  deadRedis?.disconnect();
  redis?.disconnect();
  await db?.close();
});

/** /metrics and /healthz of a process with these clients, on a port of their own. */
async function serve(deps: { redis: Redis; db: Db }, metrics = createMetrics()): Promise<string> {
  const { server, port } = await serveObservability(observabilityRoutes({ metrics, health: () => checkHealth(deps, 1_000) }), 0, "127.0.0.1");
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
}

describe("/healthz: 200 only when Redis and Postgres both answer (real Redis, real Postgres)", () => {
  it("both answer: 200", async () => {
    const base = await serve({ redis, db: db.db });
    const r = await get(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: "ok", redis: "ok", postgres: "ok" });
  });

  it("Redis on a closed port: 503 naming Redis, Postgres still ok", async () => {
    const base = await serve({ redis: deadRedis, db: db.db });
    const t0 = Date.now();
    const r = await get(`${base}/healthz`);
    expect(r.status).toBe(503);
    const body = JSON.parse(r.body) as Record<string, string>;
    expect(body).toMatchObject({ status: "unhealthy", postgres: "ok" });
    expect(body.redis).toMatch(/^failed: not connected \((connecting|reconnecting|connect)\)$/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("Postgres on a closed port: 503 naming Postgres, Redis still ok", async () => {
    const client = postgres(`postgres://postgres@${CLOSED}/nothing`, { max: 1, connect_timeout: 1, onnotice: () => {} });
    try {
      const base = await serve({ redis, db: drizzle(client) as unknown as Db });
      const r = await get(`${base}/healthz`);
      expect(r.status).toBe(503);
      const body = JSON.parse(r.body) as Record<string, string>;
      expect(body).toMatchObject({ status: "unhealthy", redis: "ok" });
      expect(body.postgres).toMatch(/^failed: /);
    } finally {
      await client.end({ timeout: 1 }).catch(() => {});
    }
  });
});

describe("/metrics in Prometheus text format", () => {
  it("lists Raptor's metrics with queue depths read from Redis and hosts from the database at scrape time", async () => {
    const metrics = createMetrics();
    const queues = new Queues(REDIS_URL, `raptor-test:${randomUUID()}:`);
    try {
      metrics.watchQueues(queues);
      metrics.watchHosts(db.db);
      await queues.enqueueMaintenance("reconcile", new Date("2026-11-30T00:00:00Z"));
      const base = await serve({ redis, db: db.db }, metrics);
      const r = await get(`${base}/metrics`);
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(r.body).toContain('raptor_queue_jobs{queue="maintenance",state="waiting"} 1');
      expect(r.body).toContain('raptor_queue_jobs{queue="deployments",state="waiting"} 0');
      expect(r.body).toMatch(/^raptor_hosts\{state="up"\} 0$/m);
      for (const name of ["raptor_deployments_total", "raptor_deployment_step_duration_seconds", "raptor_queue_wait_seconds", "raptor_slack_ack_duration_seconds", "raptor_beat_runs_total", "raptor_beat_ticks_total", "raptor_bot_commands_busy_total", "process_resident_memory_bytes"]) {
        expect(r.body).toContain(`# TYPE ${name} `);
      }
      expect((await get(`${base}/nothing`)).status).toBe(404);
    } finally {
      await queues.maintenance.obliterate({ force: true });
      await queues.close();
    }
  });
});

describe("the Slack bot's HTTP port serves /metrics and /healthz beside /slack/events", () => {
  let fake: FakeSlack;
  let slack: SlackApp;
  let base: string;
  const metrics = createMetrics();

  beforeAll(async () => {
    fake = await FakeSlack.start({ signingSecret: "s3cret", botToken: "xoxb-obs" });
    fake.addUser({ id: "U0ALICE", name: "alice" });
    slack = createSlackApp({
      botToken: "xoxb-obs",
      signingSecret: "s3cret",
      port: 0,
      slackApiUrl: fake.apiUrl,
      dispatch: new FakeDispatch().fn,
      redis,
      prefix: `raptor-test:${randomUUID()}:`,
      logger: silentLogger,
      routes: observabilityRoutes({ metrics, health: () => checkHealth({ redis, db: db.db }, 1_000) }),
      onAck: (s) => metrics.slackAckSeconds.observe(s),
    });
    const { port } = await slack.start();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await slack?.stop();
    await fake?.close();
  });

  it("acks are timed into raptor_slack_ack_duration_seconds; /healthz answers 200 on the same port", async () => {
    await fake.slashCommand(`${base}/slack/events`, { text: "status web", user: "U0ALICE", channel: "C0WEB" });
    await fake.slashCommand(`${base}/slack/events`, { text: "status web", user: "U0ALICE", channel: "C0WEB" });
    const m = await get(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^raptor_slack_ack_duration_seconds_count 2$/m);
    expect(m.body).toMatch(/^raptor_slack_ack_duration_seconds_bucket\{le="3"\} 2$/m);
    const h = await get(`${base}/healthz`);
    expect(h.status).toBe(200);
    await fake.waitForCall((c) => c.method === "response_url", { timeoutMs: 5_000 });
  });
});

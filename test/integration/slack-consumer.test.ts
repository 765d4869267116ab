import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent, EngineEventBody } from "../../engine/event-types.ts";
import { createEventConsumer, type EventConsumer, type ThreadSink } from "../../bot/notify/consumer.ts";
import type { ThreadState } from "../../bot/notify/thread.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A sink that records deliveries and lets a test wait for a number of them. */
class RecordingSink implements ThreadSink {
  delivered: { id: string; type: string; deploymentId: string; status: string }[] = [];
  failNext = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  async deliver(state: ThreadState, event: EngineEvent) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("slack is down");
    }
    this.delivered.push({ id: event.id, type: event.type, deploymentId: event.deploymentId, status: state.status });
    this.waiters = this.waiters.filter((w) => (this.delivered.length >= w.n ? (w.resolve(), false) : true));
  }
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.delivered.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} deliveries, have ${this.delivered.length}`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }
}

/** Waits for a condition on Redis (recording and acking follow delivery), polling briefly. */
async function until(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
const noPending = (prefix: string) => async () => ((await redis.xpending(`${prefix}events`, "raptor-bot")) as [number])[0] === 0;

let redis: Redis;
const consumers: EventConsumer[] = [];
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

function setup() {
  const prefix = `raptor-test:${randomUUID()}:`;
  prefixes.push(prefix);
  const sink = new RecordingSink();
  const make = (consumer = "bot-1", s: ThreadSink = sink, extra: { claimIdleMs?: number } = {}) => {
    const c = createEventConsumer({ redis, sink: s, prefix, consumer, blockMs: 200, retryDelayMs: 10, ...extra });
    consumers.push(c);
    return c;
  };
  const append = async (deploymentId: string, body: EngineEventBody) =>
    (await redis.xadd(`${prefix}events`, "*", "e", JSON.stringify({ ...body, deploymentId, at: new Date().toISOString() }))) as string;
  return { prefix, sink, make, append };
}

const queued: EngineEventBody = {
  type: "deployment.queued",
  kind: "deploy",
  app: "web",
  env: "staging",
  requestedBy: "U1",
  origin: "slack:C1",
  summary: "deploy web staging",
  steps: ["build"],
  behind: [],
};

describe("event consumer (real Redis)", () => {
  it("delivers events in order with the folded state, and keeps the state in Redis", async () => {
    const { sink, make, append } = setup();
    const c = make();
    await c.start();
    await append("d-1", queued);
    await append("d-1", { type: "deployment.started" });
    await append("d-1", { type: "step.finished", step: "build", durationMs: 10 });
    await sink.waitFor(3);
    await until(async () => (await c.thread("d-1"))?.lastEventId === sink.delivered[2]!.id);
    expect(sink.delivered.map((d) => [d.type, d.status])).toEqual([
      ["deployment.queued", "queued"],
      ["deployment.started", "running"],
      ["step.finished", "running"],
    ]);
    const thread = await c.thread("d-1");
    expect(thread?.steps).toEqual([{ name: "build", status: "succeeded", durationMs: 10 }]);
    expect(thread?.lastEventId).toBe(sink.delivered[2]!.id);
  });

  it("a restarted consumer resumes from the stored state and repeats nothing, even when the stream is re-read", async () => {
    const { prefix, sink, make, append } = setup();
    const first = make();
    await first.start();
    await append("d-1", queued);
    await append("d-1", { type: "deployment.started" });
    await sink.waitFor(2);
    await until(noPending(prefix));
    await first.stop();

    // Everything is redelivered (at-least-once): the recorded position makes it effectively-once.
    await redis.call("XGROUP", "SETID", `${prefix}events`, "raptor-bot", "0");
    const second = make();
    await second.start();
    await append("d-1", { type: "step.started", step: "build" });
    await sink.waitFor(3);
    await append("d-2", queued);
    await sink.waitFor(4);
    expect(sink.delivered.map((d) => `${d.deploymentId} ${d.type} ${d.status}`)).toEqual([
      "d-1 deployment.queued queued",
      "d-1 deployment.started running",
      "d-1 step.started running",
      "d-2 deployment.queued queued",
    ]);
    await until(noPending(prefix));
  });

  it("claims the pending entries of a dead consumer on start", async () => {
    const { prefix, sink, make, append } = setup();
    // The group exists and a consumer that then died read two entries without acking them.
    await redis.call("XGROUP", "CREATE", `${prefix}events`, "raptor-bot", "$", "MKSTREAM");
    await append("d-1", queued);
    await append("d-1", { type: "deployment.started" });
    await redis.call("XREADGROUP", "GROUP", "raptor-bot", "dead-bot", "COUNT", 10, "STREAMS", `${prefix}events`, ">");
    const c = make("bot-2", sink, { claimIdleMs: 0 });
    await c.start();
    await sink.waitFor(2);
    expect(sink.delivered.map((d) => d.type)).toEqual(["deployment.queued", "deployment.started"]);
    await until(noPending(prefix));
  });

  it("retries a failed delivery before moving on, and acks unreadable entries", async () => {
    const { prefix, sink, make, append } = setup();
    const c = make();
    await c.start();
    sink.failNext = 2;
    await redis.xadd(`${prefix}events`, "*", "e", "{not json");
    await append("d-1", queued);
    await sink.waitFor(1);
    expect(sink.delivered.map((d) => d.type)).toEqual(["deployment.queued"]);
    // The delivered entry is acked once recorded; the unreadable one was acked right away.
    await append("d-1", { type: "deployment.started" });
    await sink.waitFor(2);
    await until(noPending(prefix));
  });
});

import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullConnection, bullPrefix, Queues } from "../../engine/queues.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `raptor-test:${randomUUID()}:`;
const WINDOW_MS = 400;

let queues: Queues;
let worker: Worker;
const hostReads: string[] = [];

beforeAll(async () => {
  queues = new Queues(REDIS_URL, prefix, WINDOW_MS);
  // Stands in for the worker's readHost: counts the reads that reached a host.
  worker = new Worker(
    "reads",
    async (job) => {
      hostReads.push((job.data as { host: string }).host);
      await new Promise((r) => setTimeout(r, 50));
      return { "hello-stage-v1-web-5001": "RUNNING" };
    },
    { connection: bullConnection(REDIS_URL), prefix: bullPrefix(prefix), concurrency: 8 },
  );
  await worker.waitUntilReady();
});

afterAll(async () => {
  await worker?.close();
  await queues?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe("live reads (status, logs) are coalesced: real Redis, real BullMQ", () => {
  it("1000 identical reads asked at once become one host read, and every caller gets its answer", async () => {
    const before = hostReads.length;
    const answers = await Promise.all(Array.from({ length: 1000 }, () => queues.read<Record<string, string>>({ kind: "states", squad: "stage", host: "h1" }, 5_000)));
    expect(hostReads.length - before).toBe(1);
    expect(answers).toHaveLength(1000);
    for (const a of answers) expect(a).toEqual({ "hello-stage-v1-web-5001": "RUNNING" });
  });

  it("within the window a repeated read is answered without a job; another host is read; after the window it is read again", async () => {
    await new Promise((r) => setTimeout(r, WINDOW_MS + 50));
    const before = hostReads.length;
    await queues.read({ kind: "states", squad: "stage", host: "h1" }, 5_000);
    await queues.read({ kind: "states", squad: "stage", host: "h1" }, 5_000);
    await queues.read({ kind: "states", squad: "stage", host: "h2" }, 5_000);
    expect(hostReads.slice(before)).toEqual(["h1", "h2"]);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 50));
    await queues.read({ kind: "states", squad: "stage", host: "h1" }, 5_000);
    expect(hostReads.slice(before)).toEqual(["h1", "h2", "h1"]);
  });
});

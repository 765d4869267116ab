import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { report } from "../../engine/beat/report.ts";
import { watchBeatReports } from "../../bot/terminal-news.ts";
import type { Playbook } from "../../playbooks/types.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// Issue 11 trial: a timed lock's release was not announced in the terminal chat.
describe("the beat's news in the terminal chat (real Redis)", () => {
  const prefix = `raptor-test:${randomUUID()}:`;
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("prints a report meant for an environment's Slack channels once, and nothing else of the stream", async () => {
    const conn = new Redis(REDIS_URL);
    const stop = new AbortController();
    const lines: string[] = [];
    // Something already in the stream before the chat opened is not news.
    await report({ redis, prefix, playbook: { secrets: [] } as unknown as Playbook }, "expire", [{ origin: "terminal" }], "old news");
    const watching = watchBeatReports(conn, prefix, (l) => lines.push(l), stop.signal);
    await new Promise((r) => setTimeout(r, 300));
    await redis.xadd(`${prefix}events`, "*", "e", JSON.stringify({ type: "step.started", step: "build", deploymentId: "d-x", at: new Date().toISOString() }));
    const text = "hello local is unlocked: the lock U_CLI took (testing) ended at 2026-11-30 02:00 UTC.";
    await report({ redis, prefix, playbook: { secrets: [] } as unknown as Playbook }, "expire", [{ origin: "slack:#hello", app: "hello", env: "local" }, { origin: "slack:#hello-ops", app: "hello", env: "local" }], text);
    await vi.waitUntil(() => lines.length > 0, { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    conn.disconnect();
    await watching.catch(() => undefined);
    expect(lines).toEqual([`⚙ beat expire: ${text}`]);
  });
});

/**
 * The Slack app as the HTTP tests run it: the real Bolt app (bot/slack/app.ts) on a free port,
 * the fake Slack it calls, real Redis under a key prefix of its own; and what the tests need around
 * it: a logger that keeps its lines, and a signed request sent as it was signed.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createSlackApp, type SlackApp, type SlackAppOptions } from "../../bot/slack/app.ts";
import type { Logger } from "../../lib/logger.ts";
import { FakeSlack, type SignedRequest } from "./fake-slack.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface SlackBed {
  fake: FakeSlack;
  redis: Redis;
  slack: SlackApp;
  /** The bot's events URL (`http://127.0.0.1:<port>/slack/events`). */
  url: string;
}

export const ALICE = { id: "U0ALICE", name: "alice", email: "alice@example.com" };
export const BOB = { id: "U0BOB", name: "bob", email: "bob@example.com" };

/**
 * Starts the fake Slack (signing with `signingSecret`, answering `botToken`) with `users` and
 * `channels` (default alice, and #web as C0WEB), then the app over HTTP on port 0 pointed at it,
 * with a Redis connection and a key prefix of its own (`raptor-test:<uuid>:`). `app` gives the
 * rest of the app's options: its logger and `dispatch` or `answerer`, limits.
 */
export async function startSlackBed(o: {
  signingSecret: string;
  botToken: string;
  users?: { id: string; name: string; email?: string }[];
  channels?: { id: string; name: string }[];
  app: Omit<SlackAppOptions, "botToken" | "signingSecret" | "port" | "slackApiUrl" | "redis" | "prefix">;
}): Promise<SlackBed & { prefix: string }> {
  const fake = await FakeSlack.start({ signingSecret: o.signingSecret, botToken: o.botToken });
  for (const c of o.channels ?? [{ id: "C0WEB", name: "web" }]) fake.channels.set(c.id, c);
  for (const u of o.users ?? [ALICE]) fake.addUser(u);
  const redis = new Redis(REDIS_URL);
  const prefix = `raptor-test:${randomUUID()}:`;
  const slack = createSlackApp({ ...o.app, botToken: o.botToken, signingSecret: o.signingSecret, port: 0, slackApiUrl: fake.apiUrl, redis, prefix });
  const { port } = await slack.start();
  return { fake, redis, slack, url: `http://127.0.0.1:${port}/slack/events`, prefix };
}

/** Stops the app and the fake, deletes the bed's Redis keys and closes its connection. Takes a bed not (fully) started. */
export async function stopSlackBed(bed: Partial<SlackBed & { prefix: string }>): Promise<void> {
  await bed.slack?.stop();
  await bed.fake?.close();
  if (!bed.redis) return;
  const keys = await bed.redis.keys(`${bed.prefix}*`);
  if (keys.length > 0) await bed.redis.del(...keys);
  await bed.redis.quit();
}

/**
 * startSlackBed before the file's tests and stopSlackBed after them, as hooks of the calling file
 * (or describe block). The bed returned is filled in once its beforeAll has run: read its fields
 * in tests and hooks, not when the file is collected.
 */
export function useSlackBed(o: Parameters<typeof startSlackBed>[0]): SlackBed {
  const bed = {} as SlackBed & { prefix: string };
  beforeAll(async () => void Object.assign(bed, await startSlackBed(o)));
  afterAll(() => stopSlackBed(bed));
  return bed;
}

/** A logger that appends `<level> <message> <fields as JSON>` to `lines`, for the `levels` given (default all). */
export function collectingLogger(lines: string[], levels: (keyof Logger)[] = ["debug", "info", "warn", "error"]): Logger {
  const at = (level: keyof Logger) => (o: object, msg?: string) => void (levels.includes(level) && lines.push(`${level} ${msg ?? ""} ${JSON.stringify(o)}`));
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** POSTs a signed request exactly as signed (again, for a replay); the bot's status and body. */
export async function postSigned(r: SignedRequest): Promise<{ status: number; body: string }> {
  const res = await fetch(r.url, { method: "POST", headers: r.headers, body: r.body });
  return { status: res.status, body: await res.text() };
}

import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { EngineEvent } from "../../engine/event-types.ts";
import { errorFields, silentLogger, type Logger } from "../../lib/logger.ts";
import { reduceThread, type ThreadState } from "./thread.ts";

/**
 * The event consumer: reads `<prefix>events` with a consumer group, folds each event into its
 * deployment's ThreadState (kept in Redis, so a restarted bot resumes), hands it to a sink, then
 * records the event id as delivered and acks it.
 *
 * Invariant: per deployment, `<prefix>thread:<id>` holds { state, last } where `last` is the stream
 * id of the last event delivered. The stream is at-least-once (a crash between delivery and ack
 * redelivers); ids at or below `last` are skipped, which makes delivery effectively-once.
 * One bot process consumes a group at a time (ordering per deployment relies on it).
 */

export interface ThreadSink {
  deliver(state: ThreadState, event: EngineEvent, prev: ThreadState | undefined): Promise<void>;
}

export interface EventConsumerOptions {
  redis: Redis;
  sink: ThreadSink;
  /** Key prefix shared with the engine. Default `raptor:`. */
  prefix?: string;
  /** Consumer group. Default `raptor-bot`. */
  group?: string;
  /** This consumer's name; stable across restarts so its own pending entries are re-read. Default: the host name. */
  consumer?: string;
  /** Where a newly created group starts: `$` (only new events, default) or `0` (the whole stream). */
  startFrom?: "$" | "0";
  /** XREADGROUP BLOCK timeout. Default 2000 ms. */
  blockMs?: number;
  /** Entries per read. Default 50. */
  batch?: number;
  /** Pending entries idle this long belong to a dead consumer and are claimed. Default 60 000 ms. */
  claimIdleMs?: number;
  /** Delivery attempts per event before it is logged and skipped. Default 5. */
  maxAttempts?: number;
  /** First retry delay, doubled each attempt (max 10 s). Default 500 ms. */
  retryDelayMs?: number;
  /** Thread state expiry. Default 30 days. */
  stateTtlSeconds?: number;
  log?: Logger;
}

export interface EventConsumer {
  /** Creates the group if needed, re-reads own pending entries, claims a dead consumer's, then consumes in the background. */
  start(): Promise<void>;
  /** Stops after the event in hand; undelivered entries stay pending for the next start. */
  stop(): Promise<void>;
  /** The stored thread of a deployment. */
  thread(deploymentId: string): Promise<ThreadState | undefined>;
}

type Entry = [id: string, fields: string[] | null];

/** Orders stream ids ("1700000000000-3") numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function threadKey(prefix: string, deploymentId: string): string {
  return `${prefix}thread:${deploymentId}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createEventConsumer(opts: EventConsumerOptions): EventConsumer {
  const { redis, sink } = opts;
  const prefix = opts.prefix ?? "raptor:";
  const stream = `${prefix}events`;
  const group = opts.group ?? "raptor-bot";
  const consumer = opts.consumer ?? hostname();
  const blockMs = opts.blockMs ?? 2000;
  const batch = opts.batch ?? 50;
  const claimIdleMs = opts.claimIdleMs ?? 60_000;
  const maxAttempts = opts.maxAttempts ?? 5;
  const retryDelayMs = opts.retryDelayMs ?? 500;
  const ttl = opts.stateTtlSeconds ?? 30 * 24 * 3600;
  const log = opts.log ?? silentLogger;

  let reader: Redis | undefined;
  let running = false;
  let loop: Promise<void> | undefined;

  async function ensureGroup(): Promise<void> {
    try {
      await redis.call("XGROUP", "CREATE", stream, group, opts.startFrom ?? "$", "MKSTREAM");
    } catch (err) {
      if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
    }
  }

  async function ack(id: string): Promise<void> {
    await redis.call("XACK", stream, group, id);
  }

  async function deliver(state: ThreadState, event: EngineEvent, prev: ThreadState | undefined): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.deliver(state, event, prev);
        return true;
      } catch (err) {
        if (!running) throw err;
        if (attempt >= maxAttempts) {
          log.error({ deploymentId: event.deploymentId, eventId: event.id, type: event.type, attempt, ...errorFields(err) }, "thread delivery failed, skipping event");
          return false;
        }
        log.warn({ deploymentId: event.deploymentId, eventId: event.id, type: event.type, attempt, ...errorFields(err) }, "thread delivery failed, retrying");
        await sleep(Math.min(retryDelayMs * 2 ** (attempt - 1), 10_000));
      }
    }
  }

  async function handle([id, fields]: Entry): Promise<void> {
    const raw = fields ? fields[fields.indexOf("e") + 1] : undefined;
    let event: EngineEvent;
    try {
      if (!fields || fields.indexOf("e") % 2 !== 0 || raw === undefined) throw new Error("no field e");
      const parsed = JSON.parse(raw) as Partial<EngineEvent>;
      if (typeof parsed.deploymentId !== "string" || typeof parsed.type !== "string") throw new Error("not an engine event");
      event = { ...parsed, id } as EngineEvent;
    } catch (err) {
      // A malformed entry would block the group forever; it is logged (without its content) and acked.
      log.error({ eventId: id, ...errorFields(err) }, "unreadable event entry, acked");
      await ack(id);
      return;
    }
    const key = threadKey(prefix, event.deploymentId);
    const [stateJson, last] = (await redis.hmget(key, "state", "last")) as [string | null, string | null];
    if (last !== null && compareStreamIds(id, last) <= 0) {
      log.debug({ deploymentId: event.deploymentId, eventId: id }, "event already delivered");
      await ack(id);
      return;
    }
    const prev = stateJson ? (JSON.parse(stateJson) as ThreadState) : undefined;
    const next = reduceThread(prev, event);
    await deliver(next, event, prev);
    await redis.multi().hset(key, "state", JSON.stringify(next), "last", id).expire(key, ttl).xack(stream, group, id).exec();
  }

  async function handleAll(entries: Entry[]): Promise<void> {
    for (const entry of entries) {
      if (!running) return;
      await handle(entry);
    }
  }

  /** XREADGROUP's reply for one stream: RESP2 `[[key, entries]]`, or RESP3's map as `[key, entries]` or a Map. */
  function entriesOf(reply: unknown): Entry[] {
    if (reply instanceof Map) return ([...reply.values()][0] as Entry[] | undefined) ?? [];
    if (!Array.isArray(reply) || reply.length === 0) return [];
    if (typeof reply[0] === "string" || Buffer.isBuffer(reply[0])) return (reply[1] as Entry[] | undefined) ?? [];
    return ((reply[0] as [string, Entry[]])[1] as Entry[] | undefined) ?? [];
  }

  /** This consumer's own pending entries (delivered to us before a restart, never acked). */
  async function readOwnPending(): Promise<void> {
    let from = "0";
    for (;;) {
      const entries = entriesOf(await redis.call("XREADGROUP", "GROUP", group, consumer, "COUNT", batch, "STREAMS", stream, from));
      if (entries.length === 0 || !running) return;
      await handleAll(entries);
      from = entries[entries.length - 1]![0];
    }
  }

  /** Entries another (dead) consumer took and never acked. */
  async function claimDead(): Promise<void> {
    let cursor = "0-0";
    do {
      const reply = (await redis.call("XAUTOCLAIM", stream, group, consumer, claimIdleMs, cursor, "COUNT", batch)) as [string, Entry[], unknown?];
      cursor = reply[0];
      const entries = reply[1].filter((e) => e[1] !== null);
      for (const [id] of reply[1].filter((e) => e[1] === null)) await ack(id);
      if (entries.length > 0) log.info({ count: entries.length }, "claimed pending events of another consumer");
      await handleAll(entries);
    } while (cursor !== "0-0" && running);
  }

  async function run(): Promise<void> {
    let lastClaim = Date.now();
    while (running) {
      try {
        if (Date.now() - lastClaim >= claimIdleMs) {
          lastClaim = Date.now();
          await claimDead();
        }
        const reply = await reader!.call("XREADGROUP", "GROUP", group, consumer, "COUNT", batch, "BLOCK", blockMs, "STREAMS", stream, ">");
        await handleAll(entriesOf(reply));
      } catch (err) {
        if (!running) return;
        if (String((err as Error).message).includes("NOGROUP")) {
          await ensureGroup().catch(() => {});
          continue;
        }
        log.error(errorFields(err), "event consumer error; retrying in 1s");
        await sleep(1000);
      }
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      await ensureGroup();
      reader = redis.duplicate();
      await readOwnPending();
      await claimDead();
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      // Closing the reader interrupts a blocking XREADGROUP at once.
      reader?.disconnect();
      await loop?.catch(() => {});
      loop = undefined;
      reader = undefined;
    },
    async thread(deploymentId) {
      const json = await redis.hget(threadKey(prefix, deploymentId), "state");
      return json ? (JSON.parse(json) as ThreadState) : undefined;
    },
  };
}

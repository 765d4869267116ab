import type { Redis } from "ioredis";
import { errorFields, type Logger } from "./logger.ts";

/**
 * Logs a Redis connection's outage once (warn, with the reason) and its recovery once (info).
 * Without an 'error' listener ioredis prints "[ioredis] Unhandled error event" with a stack trace
 * on every reconnect attempt (ioredis README, "Connection Events"), which buries the one line an
 * operator needs while Redis restarts. ioredis keeps reconnecting by itself; this only reports.
 * @param name which connection (e.g. "engine", "bullmq"), for the log line.
 * @returns the same client.
 */
export function watchRedis(client: Redis, log: Logger, name: string): Redis {
  let down = false;
  client.on("error", (err: unknown) => {
    if (down) return;
    down = true;
    log.warn({ redis: name, ...errorFields(err) }, "Redis is unreachable; reconnecting");
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    log.info({ redis: name }, "Redis is reachable again");
  });
  return client;
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Whether an error is Redis being unreachable (reported once by watchRedis on the connection)
 * rather than something a component did wrong: BullMQ re-emits every reconnect failure of its
 * connection on each Queue and Worker.
 */
export function isRedisConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (typeof e?.code === "string" && CONNECTION_CODES.has(e.code)) || (typeof e?.message === "string" && /Connection is closed|Stream isn't writeable/.test(e.message));
}

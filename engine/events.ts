import type { Redis } from "ioredis";
import { recordEvent } from "../db/queries/deployment-events.ts";
import type { EngineDeps } from "./context.ts";
import { redactEvent } from "./redact.ts";
import { finalEventTypes, type EngineEvent, type EngineEventBody } from "./event-types.ts";
import { deploymentById } from "../db/queries/deployments.ts";
import type { RaptorMetrics } from "./metrics.ts";
import { logLineOf } from "./event-log.ts";

export const eventStreamKey = (prefix: string) => `${prefix}events`;
/** Keep the stream bounded; Postgres keeps the full history. */
const STREAM_MAXLEN = 100_000;

/**
 * Appends an event to Postgres (history) and to the Redis stream (delivery). The redactor runs
 * over every free-text field, so no secret value reaches the bot; identifier fields (app, env,
 * release, hosts, ...) are never masked (see `redactEvent`). With a `logger`, raptor.log gets the
 * event's line (event-log.ts: requests, steps with durations, outcomes, failures with reasons).
 */
export async function emit(
  deps: Pick<EngineDeps, "db" | "redis" | "prefix" | "metrics"> & { logger?: EngineDeps["logger"] },
  deploymentId: string,
  body: EngineEventBody,
  redact: (text: string) => string = (t) => t,
): Promise<EngineEvent> {
  const clean = redactEvent(body, redact);
  const at = new Date().toISOString();
  await recordEvent(deps.db, deploymentId, clean.type, clean as unknown as Record<string, unknown>);
  const partial = { ...clean, deploymentId, at };
  // Counted before it is delivered: whoever reads the final event finds the deployment counted.
  if (deps.metrics) await recordMetrics(deps as Pick<EngineDeps, "db"> & { metrics: RaptorMetrics }, deploymentId, clean);
  const id = await deps.redis.xadd(eventStreamKey(deps.prefix), "MAXLEN", "~", STREAM_MAXLEN, "*", "e", JSON.stringify(partial));
  const event = { ...partial, id: id ?? "0-0" } as EngineEvent;
  const line = deps.logger && logLineOf(event);
  if (line) deps.logger![line.level](line.fields, line.msg);
  return event;
}

/** Every step's duration and every deployment's end pass through emit: the metrics are taken here, once. */
async function recordMetrics(deps: Pick<EngineDeps, "db"> & { metrics: RaptorMetrics }, deploymentId: string, e: EngineEventBody): Promise<void> {
  if (e.type === "step.finished" || e.type === "step.failed") {
    deps.metrics.stepSeconds.observe({ step: e.step, outcome: e.type === "step.finished" ? "succeeded" : "failed" }, e.durationMs / 1000);
  } else if (finalEventTypes.has(e.type)) {
    const d = await deploymentById(deps.db, deploymentId).catch(() => undefined);
    deps.metrics.deployments.inc({ kind: d?.kind ?? "unknown", outcome: e.type.slice("deployment.".length) });
  }
}

export function parseStreamEntry(id: string, fields: string[]): EngineEvent | undefined {
  const i = fields.indexOf("e");
  if (i < 0 || fields[i + 1] === undefined) return undefined;
  try {
    return { ...(JSON.parse(fields[i + 1]!) as Omit<EngineEvent, "id">), id } as EngineEvent;
  } catch {
    return undefined;
  }
}

/**
 * Follows one deployment's events from the start of the stream until its final event.
 * `conn` must be a dedicated connection (XREAD BLOCK holds it).
 */
export async function followDeployment(
  conn: Redis,
  prefix: string,
  deploymentId: string,
  onEvent: (e: EngineEvent) => void | Promise<void>,
  opts: { from?: string; signal?: AbortSignal } = {},
): Promise<EngineEvent | undefined> {
  let last = opts.from ?? "0-0";
  const key = eventStreamKey(prefix);
  while (!opts.signal?.aborted) {
    const res = (await conn.xread("COUNT", 500, "BLOCK", 1000, "STREAMS", key, last)) as
      | [string, [string, string[]][]][]
      | null;
    if (!res) continue;
    for (const [, entries] of res) {
      for (const [id, fields] of entries) {
        last = id;
        const e = parseStreamEntry(id, fields);
        if (!e || e.deploymentId !== deploymentId) continue;
        await onEvent(e);
        if (finalEventTypes.has(e.type)) return e;
      }
    }
  }
  return undefined;
}

/** The stream id just before `id`, so an exclusive XREAD from it returns `id` itself first. */
export function streamIdBefore(id: string): string {
  const [ms, seq] = id.split("-").map((x) => BigInt(x));
  if (ms === undefined || seq === undefined) return "0-0";
  return seq > 0n ? `${ms}-${seq - 1n}` : ms > 0n ? `${ms - 1n}-18446744073709551615` : "0-0";
}

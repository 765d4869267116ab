import type { IncomingMessage, ServerResponse } from "node:http";
import type { Redis } from "ioredis";

/**
 * Slack's request signature proves who sent a request, not that it is new: Bolt refuses requests
 * older than five minutes, but a captured request replayed inside those five minutes, or one
 * dated in the future, passes its check. This guard runs before Bolt's: a timestamp more than
 * `skewSeconds` ahead of our clock is refused, and each signature is remembered in Redis for the
 * five-minute window (plus the skew) so the same signed request is refused the second time.
 * (Slack's retries are signed afresh, and their events are de-duplicated by event_id.)
 */
export interface ReplayGuardOptions {
  redis: Redis;
  prefix: string;
  /** Allowed clock skew into the future. Default 60 s. */
  skewSeconds?: number;
  /** Slack's window for a request's age (Bolt enforces it). Default 300 s. */
  windowSeconds?: number;
  now?: () => number;
}

export type ReplayVerdict = { ok: true } | { ok: false; reason: string };

/** Checks one request's headers; records its signature when it is let through. */
export async function checkReplay(headers: IncomingMessage["headers"], o: ReplayGuardOptions): Promise<ReplayVerdict> {
  const ts = Number(headers["x-slack-request-timestamp"]);
  const sig = headers["x-slack-signature"];
  // Missing or malformed headers are Bolt's to refuse (it answers 401 with its own message).
  if (!Number.isFinite(ts) || typeof sig !== "string" || sig === "") return { ok: true };
  const nowSec = Math.floor((o.now?.() ?? Date.now()) / 1000);
  const skew = o.skewSeconds ?? 60;
  if (ts > nowSec + skew) return { ok: false, reason: `request timestamp is ${ts - nowSec} s in the future` };
  const ttl = (o.windowSeconds ?? 300) + skew;
  const fresh = (await o.redis.set(`${o.prefix}slack:sig:${sig}`, "1", "EX", ttl, "NX")) === "OK";
  return fresh ? { ok: true } : { ok: false, reason: "request already received (replayed signature)" };
}

/**
 * Wraps an HTTP request listener (Bolt HTTPReceiver's) so POSTs to `paths` pass checkReplay
 * first; refused ones get 401 and never reach Bolt.
 */
export function guardListener(
  inner: (req: IncomingMessage, res: ServerResponse) => void,
  paths: readonly string[],
  o: ReplayGuardOptions & { onRefused?: (reason: string) => void },
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "POST" || !paths.includes(path)) return inner(req, res);
    checkReplay(req.headers, o).then(
      (v) => {
        if (v.ok) return inner(req, res);
        o.onRefused?.(v.reason);
        res.writeHead(401, { "content-type": "text/plain" }).end(`refused: ${v.reason}`);
      },
      (err: Error) => {
        o.onRefused?.(`replay check failed: ${err.message}`);
        res.writeHead(503, { "content-type": "text/plain" }).end("try again");
      },
    );
  };
}

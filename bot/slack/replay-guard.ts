import type { IncomingMessage, ServerResponse } from "node:http";
import { HTTPModuleFunctions, verifySlackRequest, type BufferedIncomingMessage } from "@slack/bolt";
import type { Redis } from "ioredis";

/**
 * Slack's request signature proves who sent a request, not that it is new: Bolt refuses requests
 * older than five minutes, but a captured request replayed inside those five minutes, or one
 * dated in the future, passes its check. This guard runs before Bolt's: a timestamp more than
 * `skewSeconds` ahead of our clock is refused, and each verified signature is remembered in Redis
 * for the five-minute window (plus the skew) so the same signed request is refused the second time.
 * (Slack's retries are signed afresh, and their events are de-duplicated by event_id.)
 *
 * Order matters (redteam2 N1, N2): the headers' form is checked first, then the signature is
 * verified, and only then is anything written to Redis. An unsigned request therefore costs Redis
 * nothing, and the key is the 64 hex digits Bolt verified, not the header as sent: Bolt's verifier
 * reads the hash only up to a second `=`, so `v0=<hex>=a` would otherwise be a new key for the same
 * signed request.
 */
export interface ReplayGuardOptions {
  redis: Redis;
  prefix: string;
  /** Slack's signing secret; each request is verified with Bolt's verifySlackRequest before it is remembered. */
  signingSecret: string;
  /** Largest body read, bytes. Default Bolt's (HTTPReceiver's bodyLimit default, 4 MB). */
  bodyLimit?: number;
  /** Allowed clock skew into the future. Default 60 s. */
  skewSeconds?: number;
  /** Slack's window for a request's age (Bolt enforces it). Default 300 s. */
  windowSeconds?: number;
  now?: () => number;
}

/** Slack's v0 signature exactly: `v0=` and a lowercase hex HMAC-SHA256 (api.slack.com/authentication/verifying-requests-from-slack). */
const SIGNATURE = /^v0=([0-9a-f]{64})$/;
/** Unix seconds, digits only: Bolt hashes Number(timestamp), so " 17e8" or "0x…" would sign as another string. */
const TIMESTAMP = /^[0-9]{1,12}$/;

/**
 * What a request's signature headers say (pure): `unsigned` when it has neither (Bolt answers
 * Slack's unsigned ssl_check, and refuses anything else), `malformed` when either is missing,
 * repeated or not in Slack's exact form, else the timestamp (s) and the signature's hex.
 */
export type SignatureHeaders = { kind: "unsigned" } | { kind: "malformed"; reason: string } | { kind: "signed"; timestamp: number; hex: string; header: string };

export function readSignatureHeaders(headers: IncomingMessage["headers"]): SignatureHeaders {
  const sig = headers["x-slack-signature"];
  const ts = headers["x-slack-request-timestamp"];
  if (sig === undefined && ts === undefined) return { kind: "unsigned" };
  const hex = typeof sig === "string" ? SIGNATURE.exec(sig)?.[1] : undefined;
  if (hex === undefined) return { kind: "malformed", reason: "x-slack-signature is not one v0 signature (v0= and 64 hex digits)" };
  if (typeof ts !== "string" || !TIMESTAMP.test(ts)) return { kind: "malformed", reason: "x-slack-request-timestamp is not one Unix time in seconds" };
  return { kind: "signed", timestamp: Number(ts), hex, header: sig as string };
}

/**
 * Requests this guard verified (Bolt's verifySlackRequest, above): the fast path reads it so a
 * verified command is not HMAC'd a second time on the acking loop. Weak: gone with the request.
 */
const verifiedHere = new WeakSet<IncomingMessage>();

/** Whether checkReplay verified this request's signature (and claimed it in Redis). */
export function verifiedByGuard(req: IncomingMessage): boolean {
  return verifiedHere.has(req);
}

/** Whether a failure of Bolt's body reader is the body limit (Bolt answers 413) rather than an unreadable body (401). */
export function bodyTooLarge(err: unknown): boolean {
  return HTTPModuleFunctions.isRawBodyError(err) && ((err as { type?: string }).type === "entity.too.large" || (err as { statusCode?: number }).statusCode === 413);
}

export type ReplayVerdict = { ok: true } | { ok: false; status: 401 | 413; reason: string };

/**
 * Checks one request: headers, body (read here, kept as Bolt's `rawBody`, which Bolt and the fast
 * path reuse), signature, then the claim of its signature in Redis. Writes to Redis only for a
 * request whose signature verified. Rejects only when Redis fails.
 */
export async function checkReplay(req: IncomingMessage, o: ReplayGuardOptions): Promise<ReplayVerdict> {
  const h = readSignatureHeaders(req.headers);
  if (h.kind === "unsigned") return { ok: true };
  if (h.kind === "malformed") return { ok: false, status: 401, reason: h.reason };
  const nowMs = o.now?.() ?? Date.now();
  const nowSec = Math.floor(nowMs / 1000);
  const skew = o.skewSeconds ?? 60;
  if (h.timestamp > nowSec + skew) return { ok: false, status: 401, reason: `request timestamp is ${h.timestamp - nowSec} s in the future` };
  let buffered: BufferedIncomingMessage;
  try {
    buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, o.bodyLimit ?? HTTPModuleFunctions.defaultBodyLimit);
  } catch (err) {
    // Bolt's answers to a body it cannot read: 413 past the limit, 401 otherwise.
    return bodyTooLarge(err) ? { ok: false, status: 413, reason: "body too large" } : { ok: false, status: 401, reason: `body unreadable: ${(err as Error).message}` };
  }
  try {
    verifySlackRequest({ signingSecret: o.signingSecret, body: buffered.rawBody.toString(), headers: { "x-slack-signature": h.header, "x-slack-request-timestamp": h.timestamp }, nowMilliseconds: nowMs });
  } catch (err) {
    return { ok: false, status: 401, reason: (err as Error).message };
  }
  const ttl = (o.windowSeconds ?? 300) + skew;
  const fresh = (await o.redis.set(`${o.prefix}slack:sig:${h.hex}`, "1", "EX", ttl, "NX")) === "OK";
  if (!fresh) return { ok: false, status: 401, reason: "request already received (replayed signature)" };
  verifiedHere.add(req);
  return { ok: true };
}

/**
 * Wraps an HTTP request listener (Bolt HTTPReceiver's) so POSTs to `paths` pass checkReplay
 * first; refused ones get 401 (413 for a body past the limit) and never reach Bolt.
 */
export function guardListener(
  inner: (req: IncomingMessage, res: ServerResponse) => void,
  paths: readonly string[],
  o: ReplayGuardOptions & { onRefused?: (reason: string) => void },
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "POST" || !paths.includes(path)) return inner(req, res);
    checkReplay(req, o).then(
      (v) => {
        if (v.ok) return inner(req, res);
        o.onRefused?.(v.reason);
        res.writeHead(v.status, { "content-type": "text/plain" }).end(`refused: ${v.reason}`);
      },
      (err: Error) => {
        o.onRefused?.(`replay check failed: ${err.message}`);
        res.writeHead(503, { "content-type": "text/plain" }).end("try again");
      },
    );
  };
}

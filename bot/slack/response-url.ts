import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * Posting a slash command's answer to its response_url, as Bolt's respond() does (JSON, a non-2xx
 * answer is an error), over node:http with keep-alive connections instead of fetch: under a burst
 * the bot posts hundreds of answers a second, and undici's fetch (web streams, per-request
 * objects) cost the command thread ~1.2 s of CPU per 3,400 answers in bench/ack's profile, CPU
 * taken from the acks on a small machine. The agents are this module's, as fetch's dispatcher is
 * global: one pool of connections to Slack per thread.
 */
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 50 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 50 }) };

/** How long one post may take before it fails (ms). */
export const RESPONSE_URL_TIMEOUT_MS = 30_000;

/** POSTs `message` as JSON to `url` (http or https); resolves with the status, rejects on a non-2xx answer or a network error. */
export function postToResponseUrl(url: string, message: Record<string, unknown>, timeoutMs = RESPONSE_URL_TIMEOUT_MS): Promise<number> {
  const u = new URL(url);
  const body = Buffer.from(JSON.stringify(message));
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      { method: "POST", agent: u.protocol === "https:" ? agents.https : agents.http, headers: { "content-type": "application/json", "content-length": body.length }, timeout: timeoutMs },
      (res: IncomingMessage) => {
        res.resume();
        res.once("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(status);
          else reject(new Error(`Failed to respond to the response_url: ${status} ${res.statusMessage ?? ""}`.trim()));
        });
        res.once("error", reject);
      },
    );
    req.once("timeout", () => req.destroy(new Error(`the response_url did not answer in ${timeoutMs} ms`)));
    req.once("error", reject);
    req.end(body);
  });
}

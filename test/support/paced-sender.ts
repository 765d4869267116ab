/**
 * Bursts of signed requests at a fixed pace, as Slack delivers them: request i leaves at
 * t0 + i * gapMs whether or not the earlier ones were answered, over one keep-alive agent.
 * `sendPacedApart` runs the sender in a node process of its own (paced-sender-process.ts), so
 * the ack times it measures are the bot's and the wire's, not the test process's own event loop
 * (which also serves the fake Slack the bot answers to).
 */
import { fork } from "node:child_process";
import { Agent } from "node:http";
import { resolve } from "node:path";
import { sendSignedRequest, type SentResult, type SignedRequest } from "./fake-slack/sender.ts";

export interface PacedResult {
  /** When the first request left, ms since the epoch. */
  startedAt: number;
  /** When each request left, ms after the first. */
  sentAt: number[];
  /** Each request's answer (or socket error) and its time from sending to the answer's end, ms. */
  results: SentResult[];
}

/** Sends `requests` paced `gapMs` apart from this process; resolves when every one is answered or failed. */
export async function sendPaced(requests: SignedRequest[], gapMs: number): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true });
  const sentAt: number[] = [];
  const pending: Promise<SentResult>[] = [];
  const startedAt = Date.now();
  const t0 = performance.now();
  for (const [i, r] of requests.entries()) {
    const wait = t0 + i * gapMs - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    sentAt.push(performance.now() - t0);
    pending.push(sendSignedRequest(r, agent));
  }
  const results = await Promise.all(pending);
  agent.destroy();
  return { startedAt, sentAt, results };
}

/**
 * sendPaced in a child process: it starts (tsx, a second or two) before the clock does, gets the
 * requests over IPC, sends them and hands the figures back.
 */
export function sendPacedApart(requests: SignedRequest[], gapMs: number): Promise<PacedResult> {
  const child = fork(resolve(import.meta.dirname, "paced-sender-process.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((done, fail) => {
    child.on("message", (m: { ready?: true } & Partial<PacedResult>) => {
      if (m.ready) child.send({ requests, gapMs });
      else {
        done(m as PacedResult);
        child.disconnect();
      }
    });
    child.on("exit", (code) => fail(new Error(`the paced sender exited (${code}) before answering`)));
    child.on("error", fail);
  });
}

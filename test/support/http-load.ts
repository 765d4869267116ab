/**
 * Constant HTTP load for zero-downtime tests: `concurrency` loops, each sending one GET after
 * another (a new connection per request: `Connection: close`, no agent), until stopped. Every
 * answer is counted: 2xx, other statuses, and transport failures (resets, refused, timeouts).
 */
import { request } from "node:http";

export interface LoadAnswer {
  at: number;
  status: number;
  body: string;
}

export interface LoadReport {
  sent: number;
  ok: number;
  /** Non-2xx answers and failed requests, with what happened (the first 20 kept). */
  failed: number;
  failures: string[];
  answers: LoadAnswer[];
}

export interface Load {
  stop(): Promise<LoadReport>;
}

function once(url: URL, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { connection: "close" }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => resolve({ status: 0, body: `error: ${e.message}` }));
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ status: 0, body: `error: ${e.code ?? ""} ${e.message}` }));
    req.end();
  });
}

/** Starts the load on `url`; `stop()` ends it after the requests in flight and reports. */
/** `pauseMs` between one loop's requests keeps the rate constant without starving the machine. */
export function startLoad(url: string, opts: { concurrency?: number; timeoutMs?: number; pauseMs?: number } = {}): Load {
  const target = new URL(url);
  const report: LoadReport = { sent: 0, ok: 0, failed: 0, failures: [], answers: [] };
  let running = true;
  const loop = async () => {
    while (running) {
      report.sent++;
      const r = await once(target, opts.timeoutMs ?? 5_000);
      report.answers.push({ at: Date.now(), ...r });
      if (r.status >= 200 && r.status < 300) report.ok++;
      else {
        report.failed++;
        if (report.failures.length < 20) report.failures.push(`${new Date().toISOString()} ${r.status} ${r.body.trim().slice(0, 120)}`);
      }
      if (opts.pauseMs) await new Promise((res) => setTimeout(res, opts.pauseMs));
    }
  };
  const loops = Array.from({ length: opts.concurrency ?? 2 }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}

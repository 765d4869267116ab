import { request } from "node:http";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { metricsAddress, serveOnMetricsPort } from "../../bin/metrics-port.ts";
import type { Logger } from "../../lib/logger.ts";
import type { RouteHandler } from "../../lib/observe-http.ts";

/**
 * New-user trial, finding 13: `make run` served /metrics and /healthz on 0.0.0.0:9100, while
 * everything else the demo opens is on 127.0.0.1 or a unix socket. The embedded set-up (no
 * DATABASE_URL, as `make run` runs) now listens on loopback; RAPTOR_METRICS_ADDR chooses.
 */
describe("metricsAddress", () => {
  it.each<[NodeJS.ProcessEnv, ReturnType<typeof metricsAddress>]>([
    [{}, { address: "127.0.0.1" }],
    [{ DATABASE_URL: "" }, { address: "127.0.0.1" }],
    [{ DATABASE_URL: "postgres://db/raptor" }, { address: "0.0.0.0" }],
    [{ RAPTOR_METRICS_ADDR: "0.0.0.0" }, { address: "0.0.0.0" }],
    [{ DATABASE_URL: "postgres://db/raptor", RAPTOR_METRICS_ADDR: " 10.1.2.3 " }, { address: "10.1.2.3" }],
    [{ RAPTOR_METRICS_ADDR: "::1" }, { address: "::1" }],
    [{ RAPTOR_METRICS_ADDR: "monitoring.internal" }, { error: 'RAPTOR_METRICS_ADDR is "monitoring.internal", not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)' }],
  ])("%j", (env, out) => expect(metricsAddress(env)).toEqual(out));
});

/** The port and address the log line names, from a logger that keeps what it is given. */
function recordingLogger(): Logger & { served: () => { address?: string; port: number } } {
  const lines: Record<string, unknown>[] = [];
  const keep = (obj: object) => void lines.push(obj as Record<string, unknown>);
  return {
    debug: keep,
    info: keep,
    warn: keep,
    error: keep,
    served: () => lines.find((l) => typeof l.port === "number") as { address?: string; port: number },
  };
}

function get(host: string, port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: "/healthz", timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.end();
  });
}

const outside = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === "IPv4")?.address;
const routes: Record<string, RouteHandler> = { "/healthz": (_req, res) => void res.writeHead(200).end("ok\n") };

describe("serveOnMetricsPort", () => {
  it("as make run starts it (no DATABASE_URL): answers on 127.0.0.1, not on this machine's other addresses", async () => {
    const log = recordingLogger();
    const stop = await serveOnMetricsPort(routes, "bot", log, { RAPTOR_METRICS_PORT: "0" });
    try {
      const { port } = log.served();
      expect(await get("127.0.0.1", port)).toBe(200);
      if (outside) expect(await get(outside, port)).toBe("ECONNREFUSED");
      expect(log.served().address).toBe("127.0.0.1");
    } finally {
      await stop();
    }
  });

  it.runIf(outside)("with DATABASE_URL (production) or RAPTOR_METRICS_ADDR=0.0.0.0: every interface, for the monitoring network", async () => {
    for (const env of [{ DATABASE_URL: "postgres://db/raptor" }, { RAPTOR_METRICS_ADDR: "0.0.0.0" }]) {
      const log = recordingLogger();
      const stop = await serveOnMetricsPort(routes, "worker", log, { ...env, RAPTOR_METRICS_PORT: "0" });
      try {
        expect(await get(outside!, log.served().port)).toBe(200);
      } finally {
        await stop();
      }
    }
  });
});

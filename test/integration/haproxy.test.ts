/**
 * The HAProxy backend against a real HAProxy 2.6 (master-worker, runtime API on a unix socket).
 */
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BalancerError } from "../../balancers/balancer.ts";
import { parseBackendFile } from "../../balancers/haproxy-config.ts";
import { HaproxyBalancer, type HaproxyOptions } from "../../balancers/haproxy.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { startHaproxy, type TestHaproxy } from "../support/haproxy.ts";

let hx: TestHaproxy;
const host = new LocalHost("lb1");
const upstreams: Server[] = [];

/** An HTTP server on 127.0.0.1 that answers its own name after `delayMs`. */
async function upstream(delayMs = 0): Promise<string> {
  const server = createServer((_req, res) => setTimeout(() => res.end(`up ${(server.address() as AddressInfo).port}`), delayMs));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  upstreams.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function balancer(extra: Partial<HaproxyOptions> = {}): HaproxyBalancer {
  return new HaproxyBalancer({ name: "lb", hosts: [host], socket: hx.socket, includeDir: hx.includeDir, validate: hx.validate, reload: hx.reload, pollMs: 20, ...extra });
}

async function api(command: string): Promise<string> {
  return (await host.exec(["socat", "stdio", `unix-connect:${hx.socket}`], { stdin: `${command}\n` })).stdout;
}

/** The worker's pid: it changes on every reload, and only then. */
async function workerPid(): Promise<string> {
  return /^Pid: (\d+)/m.exec(await api("show info"))![1]!;
}

async function get(path = "/"): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${hx.port}${path}`, { headers: { connection: "close" } });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  hx = await startHaproxy({ frontendPool: "web" });
});
afterAll(async () => {
  await hx?.stop();
  for (const s of upstreams) s.closeAllConnections(), s.close();
});

describe("HAProxy backend", () => {
  it("an existing backend with no servers is an empty pool", async () => {
    expect(await balancer().getNodes("web")).toEqual([]);
    expect(await balancer().getNodes("nosuchpool")).toEqual([]);
  });

  it("adds and removes servers of an existing backend through the runtime API, with no reload, and keeps the pool file in step", async () => {
    const [a, b] = [await upstream(), await upstream()];
    const pid = await workerPid();
    expect(await balancer().addNodes("web", [a, b])).toEqual([a, b].sort());
    expect(parseBackendFile(await readFile(join(hx.includeDir, "web.cfg"), "utf8"))).toEqual([a, b].sort());
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await get();
      expect(r.status).toBe(200);
      bodies.add(r.body);
    }
    expect(bodies.size).toBe(2);
    expect(await balancer().deleteNodes("web", [a])).toEqual([b]);
    expect(parseBackendFile(await readFile(join(hx.includeDir, "web.cfg"), "utf8"))).toEqual([b]);
    expect((await get()).body).toBe(`up ${b.split(":")[1]}`);
    expect(await workerPid()).toBe(pid);
    await balancer().deleteNodes("web", [b]);
    expect(await balancer().getNodes("web")).toEqual([]);
  });

  it("a new pool's backend is written, validated and loaded with one reload", async () => {
    const a = await upstream();
    const pid = await workerPid();
    expect(await balancer().addNodes("fresh", [a])).toEqual([a]);
    expect(await workerPid()).not.toBe(pid);
    expect(parseBackendFile(await readFile(join(hx.includeDir, "fresh.cfg"), "utf8"))).toEqual([a]);
    const after = await workerPid();
    const b = await upstream();
    await balancer().addNodes("fresh", [b]);
    expect(await workerPid()).toBe(after); // the second change goes through the runtime API
    expect(await balancer().getNodes("fresh")).toEqual([a, b].sort());
  });

  it("drains a removed server: a request in flight on it completes before it is deleted", async () => {
    const slow = await upstream(800);
    const other = await upstream();
    await balancer().addNodes("web", [slow]);
    const inFlight = get("/slow");
    await new Promise((r) => setTimeout(r, 150));
    await balancer().addNodes("web", [other]);
    const started = Date.now();
    await balancer().deleteNodes("web", [slow], { drainMs: 5_000 });
    expect(Date.now() - started).toBeGreaterThan(300); // it waited for the session
    expect(await inFlight).toEqual({ status: 200, body: `up ${slow.split(":")[1]}` });
    expect(await balancer().getNodes("web")).toEqual([other]);
    await balancer().deleteNodes("web", [other]);
  });

  it("with a drain of 0, a request in flight on a removed server still completes (cut only after a grace)", async () => {
    // Slower than the change itself (validation takes a while), so the cut happens mid-request.
    const slow = await upstream(3_000);
    await balancer().addNodes("web", [slow]);
    const inFlight = get("/slow");
    await new Promise((r) => setTimeout(r, 150));
    await balancer().deleteNodes("web", [slow], { drainMs: 0 });
    expect(await inFlight).toEqual({ status: 200, body: `up ${slow.split(":")[1]}` });
    expect(await balancer().getNodes("web")).toEqual([]);
  });

  it("a config the validator rejects fails with HAProxy's message and changes nothing", async () => {
    const a = await upstream();
    await balancer().addNodes("web", [a]);
    const before = await readFile(join(hx.includeDir, "web.cfg"), "utf8");
    const broken = join(hx.dir, "broken.cfg");
    await writeFile(broken, "backend web\n  balance roundrobin\n");
    const b = await upstream();
    const err = await balancer({ validate: [...hx.validate, "-f", broken] }).addNodes("web", [b]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BalancerError);
    expect((err as Error).message).toMatch(/^balancer lb on lb1: validate failed \(`haproxy -c .*`, exit 1\): .*backend.*web/s);
    expect(await readFile(join(hx.includeDir, "web.cfg"), "utf8")).toBe(before);
    expect(await balancer().getNodes("web")).toEqual([a]);
    await balancer().deleteNodes("web", [a]);
  });

  it("a socket that does not answer fails with the host and socat's message, and nothing is written", async () => {
    const err = await balancer({ socket: join(hx.dir, "nosuch.sock") }).addNodes("web", ["127.0.0.1:1"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BalancerError);
    expect((err as Error).message).toMatch(/^balancer lb on lb1: the runtime API socket .*nosuch\.sock does not answer: .*(No such file|connect)/s);
    expect(parseBackendFile(await readFile(join(hx.includeDir, "web.cfg"), "utf8"))).toEqual([]);
  });

  it("two balancer hosts: a host whose validator rejects the change fails it, and the other host is put back", async () => {
    const base = join(hx.dir, "two");
    const [h1, h2] = [await startHaproxy({ dir: join(base, "lb1"), frontendPool: "web" }), await startHaproxy({ dir: join(base, "lb2"), frontendPool: "web" })];
    try {
      await writeFile(join(base, "lb1", "extra.cfg"), "");
      await writeFile(join(base, "lb2", "extra.cfg"), "backend web\n");
      const b = new HaproxyBalancer({
        name: "lb",
        hosts: [new LocalHost("lb1"), new LocalHost("lb2")],
        socket: join(base, "{host}", "admin.sock"),
        includeDir: join(base, "{host}", "raptor"),
        validate: ["haproxy", "-c", "-f", join(base, "{host}", "haproxy.cfg"), "-f", join(base, "{host}", "raptor"), "-f", join(base, "{host}", "extra.cfg")],
        reload: ["false"],
        pollMs: 20,
      });
      const a = await upstream();
      const progress: string[] = [];
      const err = await b.addNodes("web", [a], { progress: (m) => void progress.push(m) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BalancerError);
      expect((err as BalancerError).host).toBe("lb2");
      expect((err as Error).message).toMatch(/^balancer lb on lb2: validate failed .*web.*; lb1 was put back to the previous pool$/s);
      for (const dir of ["lb1", "lb2"]) {
        expect(parseBackendFile(await readFile(join(base, dir, "raptor", "web.cfg"), "utf8"))).toEqual([]);
        const servers = (await new LocalHost(dir).exec(["socat", "stdio", `unix-connect:${join(base, dir, "admin.sock")}`], { stdin: "show servers state web\n" })).stdout;
        expect(servers).not.toContain(a);
      }
      await writeFile(join(base, "lb2", "extra.cfg"), "");
      await b.addNodes("web", [a], { progress: (m) => void progress.push(m) });
      expect(progress).toEqual([expect.stringMatching(/^lb1: haproxy ok, runtime API \+1 −0, no reload/), expect.stringMatching(/^lb2: haproxy ok, runtime API \+1 −0, no reload/)]);
    } finally {
      await h1.stop();
      await h2.stop();
    }
  });

  it("a node HAProxy cannot name is refused before anything changes", async () => {
    const err = await balancer().addNodes("web", ["10.0.0.1:80; del server web/x"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BalancerError);
    expect((err as Error).message).toContain("is not host:port");
  });
});

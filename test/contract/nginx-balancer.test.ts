import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { BalancerError } from "../../balancers/balancer.ts";
import { NginxBalancer } from "../../balancers/nginx.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { get } from "../support/echo-node.ts";
import { startNginx, type TestNginx } from "../support/nginx.ts";
import { releasePorts, reservePort } from "../support/testbed/ports.ts";
import { balancerContract } from "./balancer.contract.ts";

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** An upstream that answers only when `release()` is called; `arrived` resolves when a request is in. */
async function slowNode(): Promise<{ node: string; arrived: Promise<void>; release(): void; close(): Promise<void> }> {
  let arrive!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  const waiting: (() => void)[] = [];
  const server: Server = createHttpServer((_req, res) => {
    waiting.push(() => res.writeHead(200, { connection: "close" }).end("slow"));
    arrive();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    node: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived,
    release: () => waiting.splice(0).forEach((w) => w()),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** The titles of the test nginx's worker processes (ps, by its master's pid file). */
async function workerTitles(n: TestNginx): Promise<string[]> {
  const master = (await readFile(join(n.prefix, "nginx.pid"), "utf8")).trim();
  const { stdout } = await run("ps", ["-o", "args=", "--ppid", master]).catch((e: { stdout: string }) => e);
  return stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

describe("NginxBalancer (real nginx, transport local)", () => {
  let nginx: TestNginx;
  let balancer: NginxBalancer;
  balancerContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-nginx-contract-"));
    const held: string[] = [];
    const port = await reservePort(18180, 1, ["127.0.0.1"], held);
    nginx = await startNginx({ prefix: dir, address: "127.0.0.1", port, pools: ["web"] });
    const redis = new Redis(REDIS_URL);
    balancer = new NginxBalancer({ name: "edge", hosts: [new LocalHost("127.0.0.1")], includeDir: nginx.includeDir, validate: nginx.validate, reload: nginx.reload });
    return {
      balancer,
      redis,
      prefix: `test:nginx-contract:${process.pid}:`,
      async close() {
        await nginx.stop();
        redis.disconnect();
        releasePorts(held);
        await rm(dir, { recursive: true, force: true });
      },
    };
  });

  it("a reload nginx's master refuses after `nginx -t` passed is a BalancerError naming the host and nginx's error; the old config keeps serving", async () => {
    // A `listen` on a port someone holds: `nginx -t` and `nginx -s reload` do not bind, the master does, and keeps its old workers.
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const busy = (holder.address() as AddressInfo).port;
    const extra = join(nginx.includeDir, "zz-listen.conf");
    await writeFile(extra, `server { listen 127.0.0.1:${busy}; }\n`);
    try {
      const progress: string[] = [];
      const err = await balancer.addNodes("refused", ["127.0.0.1:5999"], { progress: (m) => void progress.push(m) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BalancerError);
      const e = err as BalancerError;
      expect(e.host).toBe("127.0.0.1");
      expect(e.message).toMatch(/^balancer edge on 127\.0\.0\.1: nginx did not take the new configuration: its master \(pid \d+\) kept the old workers: .*\[emerg\].*bind\(\) to 127\.0\.0\.1:\d+ failed \(98: Address already in use\)/);
      expect(progress).toEqual(["127.0.0.1: failed"]);
      // The pool file was put back: the pool does not exist, as before.
      expect(await balancer.getNodes("refused")).toEqual([]);
    } finally {
      await rm(extra, { force: true });
      await new Promise((r) => holder.close(r));
    }
    // With the obstacle gone the same change goes through.
    expect(await balancer.addNodes("refused", ["127.0.0.1:5999"])).toEqual(["127.0.0.1:5999"]);
  });

  it("a reload that is not nginx's own (a service manager's) is confirmed through the validator's nginx argv; with neither running nginx, the thread says it is not confirmed", async () => {
    // What `systemctl reload nginx` amounts to: a command whose argv does not show nginx, running `nginx -s reload`.
    const script = join(nginx.prefix, "reload.sh");
    await writeFile(script, `exec ${nginx.reload.map((a) => `'${a}'`).join(" ")}\n`);
    const wrapped = ["sh", script];
    const progress: string[] = [];
    const viaValidate = new NginxBalancer({ name: "edge", hosts: [new LocalHost("127.0.0.1")], includeDir: nginx.includeDir, validate: nginx.validate, reload: wrapped });
    await viaValidate.addNodes("wrapped", ["127.0.0.1:5998"], { progress: (m) => void progress.push(m) });
    const blind = new NginxBalancer({ name: "edge", hosts: [new LocalHost("127.0.0.1")], includeDir: nginx.includeDir, validate: ["true"], reload: wrapped });
    await blind.deleteNodes("wrapped", ["127.0.0.1:5998"], { progress: (m) => void progress.push(m) });
    expect(progress).toEqual([
      "127.0.0.1: +1, nginx ok, reloaded (1 node)",
      "127.0.0.1: −1, true ok, reloaded (not confirmed: neither reload nor validate runs nginx, so its master is unknown) (0 nodes)",
    ]);
  });

  it("a removal returns once the old workers finished the requests they held: a slow request to the removed node ends first", async () => {
    const slow = await slowNode();
    try {
      await balancer.addNodes("web", [slow.node]);
      const answered: string[] = [];
      const request = get(nginx.url("/")).then((r) => void answered.push(`request ${r.status} ${r.body}`));
      await slow.arrived;
      const progress: string[] = [];
      const removal = balancer.deleteNodes("web", [slow.node], { drainMs: 10_000, progress: (m) => void progress.push(m) }).then(() => void answered.push("deleteNodes returned"));
      // The request is answered once nginx has reloaded (its old worker, holding the request, is
      // shutting down): the removal must wait for it.
      await expect.poll(() => workerTitles(nginx), { timeout: 10_000 }).toContain("nginx: worker process is shutting down");
      slow.release();
      await Promise.all([request, removal]);
      expect(answered).toEqual(["request 200 slow", "deleteNodes returned"]);
      expect(progress).toEqual([expect.stringMatching(/^127\.0\.0\.1: −1, nginx ok, reloaded, old workers gone in \d+\.\ds \(0 nodes\)$/)]);
    } finally {
      await slow.close();
    }
  });

  it("a removal whose old workers are still busy when the drain ends returns then, and says so", async () => {
    const slow = await slowNode();
    try {
      await balancer.addNodes("web", [slow.node]);
      const request = get(nginx.url("/"));
      await slow.arrived;
      const progress: string[] = [];
      await balancer.deleteNodes("web", [slow.node], { drainMs: 300, progress: (m) => void progress.push(m) });
      expect(progress).toEqual(["127.0.0.1: −1, nginx ok, reloaded; 1 old worker still finishing requests after the drain (0.3s): not waited for longer (0 nodes)"]);
      slow.release();
      expect((await request).status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});

/**
 * bench/route: the time of one route step per balancer backend, for pools of 2 and 20 nodes. A
 * route step is what a deploy does to the pool: add the N new nodes, then remove the N old ones.
 * Backends: memory (Redis set, the baseline), nginx (real, pool file + `nginx -t` + reload),
 * HAProxy (real, runtime API over socat, pool file + `haproxy -c`, no reload), Varnish (real,
 * pool file + pools.vcl, `varnishadm vcl.load` (compiles) + `vcl.use`), Stingray (the fake
 * vTM over HTTPS: two PUTs and GETs). All on this machine through LocalHost, no drain wait, no
 * traffic. Rounds alternate the backends; medians; ratios against memory measured in the same run.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { Balancer } from "../balancers/balancer.ts";
import { HaproxyBalancer } from "../balancers/haproxy.ts";
import { MemoryBalancer } from "../balancers/memory.ts";
import { NginxBalancer } from "../balancers/nginx.ts";
import { StingrayBalancer } from "../balancers/stingray.ts";
import { VarnishBalancer } from "../balancers/varnish.ts";
import { LocalHost } from "../runners/local-host.ts";
import { startFakeVtm } from "../test/support/fake-vtm.ts";
import { startHaproxy } from "../test/support/haproxy.ts";
import { startNginx } from "../test/support/nginx.ts";
import { releasePorts, reservePort } from "../test/support/testbed/ports.ts";
import { startVarnish } from "../test/support/varnish.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SIZES = [2, 20];
const POOL = "bench";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const nodes = (gen: number, n: number) => Array.from({ length: n }, (_, i) => `10.${gen % 200}.${Math.floor(i / 200)}.${(i % 200) + 1}:8000`);

/** One route step: the new generation in, then the old one out. Returns ms. */
async function routeStep(b: Balancer, from: string[], to: string[]): Promise<number> {
  const t0 = performance.now();
  await b.addNodes(POOL, to);
  await b.deleteNodes(POOL, from, { drainMs: 0 });
  return performance.now() - t0;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "raptor-bench-route-"));
  const held: string[] = [];
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const prefix = `bench:route:${process.pid}:`;
  const host = new LocalHost("lb1");
  const port = await reservePort(18480, 1, ["127.0.0.1"], held);
  const nginx = await startNginx({ prefix: join(dir, "nginx"), address: "127.0.0.1", port, pools: [POOL] });
  const varnishPort = await reservePort(port + 1, 1, ["127.0.0.1"], held);
  const varnish = await startVarnish({ prefix: join(dir, "varnish"), address: "127.0.0.1", port: varnishPort, pools: [POOL] });
  const haproxy = await startHaproxy({ dir: join(dir, "haproxy"), frontendPool: POOL });
  const vtm = await startFakeVtm();
  const stingray = new StingrayBalancer({ name: "appliance", url: vtm.url, username: vtm.username, password: vtm.password, insecure: true, drainMs: 0 });
  const backends: Record<string, Balancer> = {
    memory: new MemoryBalancer("mem", redis, prefix),
    nginx: new NginxBalancer({ name: "edge", hosts: [host], validate: nginx.validate, includeDir: nginx.includeDir, reload: nginx.reload }),
    haproxy: new HaproxyBalancer({ name: "lb", hosts: [host], socket: haproxy.socket, includeDir: haproxy.includeDir, validate: haproxy.validate, reload: haproxy.reload, pollMs: 20 }),
    varnish: new VarnishBalancer({ name: "cache", hosts: [host], includeDir: varnish.includeDir, vcl: varnish.vcl, validate: [], varnishadm: varnish.varnishadm }),
    stingray,
  };
  const times: Record<string, Record<number, number[]>> = {};
  try {
    for (const size of SIZES) {
      const gen: Record<string, number> = {};
      for (const [name, b] of Object.entries(backends)) {
        gen[name] = 0;
        await b.addNodes(POOL, nodes(0, size)); // the pool as the previous deploy left it
        const stale = (await b.getNodes(POOL)).filter((n) => !nodes(0, size).includes(n));
        if (stale.length) await b.deleteNodes(POOL, stale, { drainMs: 0 });
      }
      for (let r = 0; r < ROUNDS; r++) {
        const order = Object.keys(backends);
        if (r % 2) order.reverse();
        for (const name of order) {
          const g = gen[name]!;
          const t = await routeStep(backends[name]!, nodes(g, size), nodes(g + 1, size));
          gen[name] = g + 1;
          ((times[name] ??= {})[size] ??= []).push(t);
        }
      }
    }
  } finally {
    await stingray.close();
    await vtm.stop();
    await nginx.stop();
    await varnish.stop();
    await haproxy.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    releasePorts(held);
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`route (one route step: add N new nodes, then remove the N old; ${ROUNDS} rounds, medians, this machine via LocalHost)`);
  console.log(`  backend    ${SIZES.map((s) => `${String(s).padStart(2)} nodes           `).join("")}`);
  for (const name of Object.keys(backends)) {
    const cells = SIZES.map((s) => {
      const ms = median(times[name]![s]!);
      const base = median(times.memory![s]!);
      return `${ms.toFixed(1).padStart(7)} ms (x${(ms / base).toFixed(0).padStart(4)})  `;
    });
    console.log(`  ${name.padEnd(9)}  ${cells.join("")}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

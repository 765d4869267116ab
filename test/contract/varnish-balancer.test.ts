import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { describe, vi } from "vitest";
import { VarnishBalancer } from "../../balancers/varnish.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { startVarnish } from "../support/varnish.ts";
import { releasePorts, reservePort } from "../support/testbed/ports.ts";
import { balancerContract } from "./balancer.contract.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// Every change compiles VCL to C and loads it (about 1-2 s here); the concurrency case makes 16.
vi.setConfig({ testTimeout: 120_000 });

describe("VarnishBalancer (real varnishd, transport local, built-in varnishadm load)", () => {
  balancerContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-varnish-contract-"));
    const held: string[] = [];
    const port = await reservePort(18380, 1, ["127.0.0.1"], held);
    const v = await startVarnish({ prefix: dir, address: "127.0.0.1", port, pools: ["web"] });
    const redis = new Redis(REDIS_URL);
    return {
      balancer: new VarnishBalancer({ name: "cache", hosts: [new LocalHost("127.0.0.1")], includeDir: v.includeDir, vcl: v.vcl, validate: [], varnishadm: v.varnishadm }),
      redis,
      prefix: `test:varnish-contract:${process.pid}:`,
      async close() {
        await v.stop();
        redis.disconnect();
        releasePorts(held);
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});

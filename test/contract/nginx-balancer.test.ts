import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { describe } from "vitest";
import { NginxBalancer } from "../../balancers/nginx.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { startNginx } from "../support/nginx.ts";
import { releasePorts, reservePort } from "../support/testbed/ports.ts";
import { balancerContract } from "./balancer.contract.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("NginxBalancer (real nginx, transport local)", () => {
  balancerContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-nginx-contract-"));
    const held: string[] = [];
    const port = await reservePort(18180, 1, ["127.0.0.1"], held);
    const nginx = await startNginx({ prefix: dir, address: "127.0.0.1", port, pools: ["web"] });
    const redis = new Redis(REDIS_URL);
    return {
      balancer: new NginxBalancer({ name: "edge", hosts: [new LocalHost("127.0.0.1")], includeDir: nginx.includeDir, validate: nginx.validate, reload: nginx.reload }),
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
});

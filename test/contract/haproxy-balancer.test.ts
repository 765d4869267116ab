import { Redis } from "ioredis";
import { describe } from "vitest";
import { HaproxyBalancer } from "../../balancers/haproxy.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { startHaproxy } from "../support/haproxy.ts";
import { balancerContract } from "./balancer.contract.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("HaproxyBalancer (real HAProxy, runtime API)", () => {
  balancerContract(async () => {
    const hx = await startHaproxy();
    const redis = new Redis(REDIS_URL);
    const host = new LocalHost("lb1");
    const prefix = `test:haproxy:${process.pid}:${Date.now().toString(36)}:`;
    return {
      balancer: new HaproxyBalancer({ name: "lb", hosts: [host], socket: hx.socket, includeDir: hx.includeDir, validate: hx.validate, reload: hx.reload, pollMs: 20 }),
      redis,
      prefix,
      async close() {
        await hx.stop();
        redis.disconnect();
      },
    };
  });
});

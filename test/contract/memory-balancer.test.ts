import { Redis } from "ioredis";
import { describe } from "vitest";
import { MemoryBalancer } from "../../balancers/memory.ts";
import { balancerContract } from "./balancer.contract.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("MemoryBalancer", () => {
  balancerContract(async () => {
    const redis = new Redis(REDIS_URL);
    const prefix = `test:balancer:${process.pid}:${Date.now().toString(36)}:`;
    return {
      balancer: new MemoryBalancer("dev", redis, prefix),
      redis,
      prefix,
      async close() {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      },
    };
  });
});

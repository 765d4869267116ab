import type { Redis } from "ioredis";
import type { BalancerConfig } from "../playbooks/types.ts";
import { BalancerError, type Balancer } from "./balancer.ts";
import { MemoryBalancer } from "./memory.ts";

/** What backends may use: a Redis connection (the memory backend) and the key prefix. */
export interface BalancerDeps {
  redis: Redis;
  prefix: string;
}

/** The backend for a playbook balancer. One place maps `kind` to an implementation. */
export function balancerFor(config: BalancerConfig, deps: BalancerDeps): Balancer {
  switch (config.kind) {
    case "memory":
      return new MemoryBalancer(config.name, deps.redis, deps.prefix);
    case "nginx":
    case "varnish":
    case "haproxy":
    case "stingray":
      throw new BalancerError(config.name, `the ${config.kind} backend is not available in this version of Raptor; use kind: memory`);
    default: {
      const never: never = config.kind;
      throw new BalancerError(config.name, `unknown balancer kind ${String(never)}`);
    }
  }
}

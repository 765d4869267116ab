import type { Redis } from "ioredis";
import type { BalancerConfig } from "../playbooks/types.ts";
import type { HostCache } from "../runners/host-cache.ts";
import { BalancerError, type Balancer } from "./balancer.ts";
import { MemoryBalancer } from "./memory.ts";
import { HaproxyBalancer } from "./haproxy.ts";
import { NginxBalancer } from "./nginx.ts";
import { StingrayBalancer } from "./stingray.ts";
import { VarnishBalancer } from "./varnish.ts";

/** What backends may use: a Redis connection (the memory backend), the key prefix, and the worker's Hosts. */
export interface BalancerDeps {
  redis: Redis;
  prefix: string;
  /** The worker's Hosts: balancer hosts share its pooled SSH connections. */
  hosts: HostCache;
}

/** The backend for a playbook balancer. One place maps `kind` to an implementation. */
export function balancerFor(config: BalancerConfig, deps: BalancerDeps): Balancer {
  switch (config.kind) {
    case "memory":
      return new MemoryBalancer(config.name, deps.redis, deps.prefix);
    case "nginx":
      return new NginxBalancer({
        ...fileBackendOptions(config, deps),
        includeDir: required(config, "include_dir"),
        reload: required(config, "reload"),
      });
    case "varnish": {
      const varnish = {
        ...fileBackendOptions(config, deps),
        includeDir: required(config, "include_dir"),
        vcl: required(config, "vcl"),
        varnishadm: required(config, "varnishadm"),
      };
      return new VarnishBalancer(config.reload ? { ...varnish, reload: config.reload } : varnish);
    }
    case "haproxy":
      return new HaproxyBalancer({
        ...fileBackendOptions(config, deps),
        socket: required(config, "socket"),
        includeDir: required(config, "include_dir"),
        reload: required(config, "reload"),
      });
    case "stingray":
      return new StingrayBalancer({
        name: config.name,
        url: required(config, "url"),
        username: required(config, "username"),
        password: required(config, "password"),
        insecure: config.insecure,
      });
    default: {
      const never: never = config.kind;
      throw new BalancerError(config.name, `unknown balancer kind ${String(never)}`);
    }
  }
}

/**
 * What every config-file backend takes: one Host per balancer host (through the worker's pool,
 * so `transport: local` and `ssh:` work as for squads) and the validator. The engine serializes
 * changes to one pool (engine/locks.ts); backends take no lock themselves.
 */
export function fileBackendOptions(config: BalancerConfig, deps: BalancerDeps) {
  return {
    name: config.name,
    hosts: config.hosts.map((h) => deps.hosts.get(config, h)),
    validate: config.validate ?? [],
  };
}

/** A key the schema fills for this kind; missing only if the config was built by hand. */
function required<K extends keyof BalancerConfig>(config: BalancerConfig, key: K): NonNullable<BalancerConfig[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new BalancerError(config.name, `needs \`${String(key)}:\` for kind ${config.kind}`);
  return value as NonNullable<BalancerConfig[K]>;
}

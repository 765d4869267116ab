import type { Redis } from "ioredis";
import type { Balancer, Node } from "./balancer.ts";

/**
 * The development backend: a pool is a Redis set, so every worker sees the same pool.
 * No traffic flows through it; it records what a real balancer would route to.
 */
export class MemoryBalancer implements Balancer {
  constructor(
    readonly name: string,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(pool: string): string {
    return `${this.prefix}pool:${this.name}:${pool}`;
  }

  async getNodes(pool: string): Promise<Node[]> {
    return (await this.redis.smembers(this.key(pool))).sort();
  }

  async addNodes(pool: string, nodes: readonly Node[]): Promise<Node[]> {
    if (nodes.length) await this.redis.sadd(this.key(pool), ...nodes);
    return this.getNodes(pool);
  }

  async deleteNodes(pool: string, nodes: readonly Node[]): Promise<Node[]> {
    if (nodes.length) await this.redis.srem(this.key(pool), ...nodes);
    return this.getNodes(pool);
  }
}

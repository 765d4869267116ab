/**
 * The contract every Balancer backend passes (issue 7 item 10): memory, nginx, HAProxy, Varnish
 * and Stingray each run it from test/contract/<backend>-balancer.test.ts; a new backend adds its
 * own such file. Call inside a `describe`: `balancerContract(async () => subject)`. Each test uses
 * pools of its own, so one subject serves the whole suite. Pool changes go through the engine's
 * pool lock (engine/locks.ts), as every caller in the engine does.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Balancer } from "../../balancers/balancer.ts";
import { withPoolLock } from "../../engine/locks.ts";

export interface BalancerSubject {
  balancer: Balancer;
  /** The Redis the pool lock lives in, and a prefix of the test's own. */
  redis: Redis;
  prefix: string;
  close?(): Promise<void>;
}

export function balancerContract(setup: () => Promise<BalancerSubject>): void {
  let s: BalancerSubject;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => {
    await s?.close?.();
  });
  const fresh = () => `pool_${randomUUID().slice(0, 8)}`;

  it("an empty pool is valid: no nodes, and validate passes", async () => {
    const pool = fresh();
    expect(await s.balancer.getNodes(pool)).toEqual([]);
    await s.balancer.addNodes(pool, ["10.0.0.1:5000"]);
    expect(await s.balancer.deleteNodes(pool, ["10.0.0.1:5000"])).toEqual([]);
    expect(await s.balancer.getNodes(pool)).toEqual([]);
    await expect(s.balancer.validate?.() ?? Promise.resolve()).resolves.toBeUndefined();
  });

  it("adding nodes twice keeps one of each and returns the pool's nodes", async () => {
    const pool = fresh();
    expect(await s.balancer.addNodes(pool, ["10.0.0.2:5001", "10.0.0.1:5000"])).toEqual(["10.0.0.1:5000", "10.0.0.2:5001"]);
    expect(await s.balancer.addNodes(pool, ["10.0.0.1:5000"])).toEqual(["10.0.0.1:5000", "10.0.0.2:5001"]);
    expect(await s.balancer.getNodes(pool)).toEqual(["10.0.0.1:5000", "10.0.0.2:5001"]);
  });

  it("deleting nodes twice, or nodes not in the pool, is harmless", async () => {
    const pool = fresh();
    await s.balancer.addNodes(pool, ["10.0.0.1:5000", "10.0.0.2:5001"]);
    expect(await s.balancer.deleteNodes(pool, ["10.0.0.1:5000", "10.0.0.9:5009"])).toEqual(["10.0.0.2:5001"]);
    expect(await s.balancer.deleteNodes(pool, ["10.0.0.1:5000"])).toEqual(["10.0.0.2:5001"]);
  });

  it("deleting from a pool that does not exist is ignored and creates nothing", async () => {
    const pool = fresh();
    expect(await s.balancer.deleteNodes(pool, ["10.0.0.1:5000"])).toEqual([]);
    expect(await s.balancer.getNodes(pool)).toEqual([]);
  });

  it("leaves the nodes of other pools untouched", async () => {
    const [a, b] = [fresh(), fresh()];
    await s.balancer.addNodes(a, ["10.0.0.1:5000"]);
    await s.balancer.addNodes(b, ["10.0.0.1:5000", "10.0.0.2:5001"]);
    await s.balancer.deleteNodes(a, ["10.0.0.1:5000"]);
    await s.balancer.addNodes(a, ["10.0.0.3:5003"]);
    expect(await s.balancer.getNodes(b)).toEqual(["10.0.0.1:5000", "10.0.0.2:5001"]);
    expect(await s.balancer.getNodes(a)).toEqual(["10.0.0.3:5003"]);
  });

  it("serializes concurrent changes to one pool: every read-modify-write lands, one at a time", async () => {
    const pool = fresh();
    let inside = 0;
    let most = 0;
    // Each change replaces the pool with what it read plus its own node: without the lock, two
    // changes reading the same pool would lose one another's node.
    const change = (i: number) =>
      withPoolLock(s, s.balancer.name, pool, async () => {
        most = Math.max(most, ++inside);
        const before = await s.balancer.getNodes(pool);
        await new Promise((r) => setTimeout(r, 5));
        if (before.length) await s.balancer.deleteNodes(pool, before);
        await s.balancer.addNodes(pool, [...before, `10.0.1.${i}:6000`]);
        inside--;
      });
    await Promise.all(Array.from({ length: 8 }, (_, i) => change(i)));
    expect(most).toBe(1);
    expect(await s.balancer.getNodes(pool)).toHaveLength(8);
  });
}

import { describe, expect, it } from "vitest";
import { Limiter } from "../../lib/concurrency.ts";
import { DEFAULT_OPS_PER_HOST, HostCache } from "../../runners/host-cache.ts";

describe("the per-host limit on parallel remote operations", () => {
  it("a Limiter runs at most `limit` calls at once, the rest in arrival order, and frees a slot on failure", async () => {
    const l = new Limiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number, fail = false) =>
      l.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (fail) throw new Error(`task ${i} failed`);
        return i;
      });
    const results = await Promise.allSettled([task(1), task(2, true), task(3), task(4), task(5)]);
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
    expect(() => new Limiter(0)).toThrow("limit must be a whole number >= 1, got 0");
  });

  it("HostCache shares one supervisord limiter per host, sized by opsPerHost (default 8)", () => {
    expect(new HostCache().opsPerHost).toBe(DEFAULT_OPS_PER_HOST);
    const cache = new HostCache({ opsPerHost: 3 });
    const a = cache.supervisorLimiter("10.0.0.1");
    expect(cache.supervisorLimiter("10.0.0.1")).toBe(a);
    expect(cache.supervisorLimiter("10.0.0.2")).not.toBe(a);
    expect(a.limit).toBe(3);
  });
});

import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BalancerError } from "../../balancers/balancer.ts";
import { StingrayBalancer } from "../../balancers/stingray.ts";
import { startFakeVtm, type FakeVtm } from "../support/fake-vtm.ts";
import { balancerContract } from "./balancer.contract.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("StingrayBalancer (fake vTM over HTTPS)", () => {
  balancerContract(async () => {
    const vtm = await startFakeVtm();
    const redis = new Redis(REDIS_URL);
    const balancer = new StingrayBalancer({ name: "appliance", url: vtm.url, username: vtm.username, password: vtm.password, insecure: true, drainMs: 0 });
    return {
      balancer,
      redis,
      prefix: `test:stingray:${process.pid}:${Date.now().toString(36)}:`,
      async close() {
        await balancer.close();
        await vtm.stop();
        redis.disconnect();
      },
    };
  });
});

describe("StingrayBalancer against the vTM's rules", () => {
  let vtm: FakeVtm;
  const made: StingrayBalancer[] = [];
  const balancer = (extra: Partial<ConstructorParameters<typeof StingrayBalancer>[0]> = {}) => {
    const b = new StingrayBalancer({ name: "appliance", url: vtm.url, username: vtm.username, password: vtm.password, insecure: true, drainMs: 0, ...extra });
    made.push(b);
    return b;
  };
  beforeAll(async () => {
    vtm = await startFakeVtm();
  });
  afterAll(async () => {
    for (const b of made) await b.close();
    await vtm?.stop();
  });

  it("a leaving node is set draining, kept so for the drain time, and only then removed", async () => {
    const b = balancer({ drainMs: 300 });
    await b.addNodes("web", ["10.0.0.1:80", "10.0.0.2:80"]);
    const started = Date.now();
    expect(await b.deleteNodes("web", ["10.0.0.1:80"])).toEqual(["10.0.0.2:80"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const states = vtm.history.get("web")!.map((t) => t.find((r) => r.node === "10.0.0.1:80")?.state ?? "gone");
    expect(states).toEqual(["active", "draining", "gone"]);
    expect(vtm.history.get("web")!.at(-1)).toEqual([{ node: "10.0.0.2:80", state: "active", weight: 1, priority: 1 }]);
  });

  it("a node added back while draining becomes active again", async () => {
    const b = balancer();
    await b.addNodes("api", ["10.0.0.5:80"]);
    vtm.pools.get("api")!.properties = { basic: { nodes_table: [{ node: "10.0.0.5:80", state: "draining", weight: 1, priority: 1 }] } };
    await b.addNodes("api", ["10.0.0.5:80"]);
    expect(vtm.history.get("api")!.at(-1)![0]!.state).toBe("active");
  });

  it("keeps the pool's other properties and the operator's weights", async () => {
    const b = balancer();
    await b.addNodes("kept", ["10.0.0.1:80"]);
    const pool = vtm.pools.get("kept") as { properties: { basic: { nodes_table: { weight: number }[]; monitors: string[] } } };
    pool.properties.basic.monitors = ["http"];
    pool.properties.basic.nodes_table[0]!.weight = 7;
    await b.addNodes("kept", ["10.0.0.2:80"]);
    const after = vtm.pools.get("kept") as typeof pool;
    expect(after.properties.basic.monitors).toEqual(["http"]);
    expect(after.properties.basic.nodes_table.map((r) => r.weight)).toEqual([7, 1]);
  });

  it("wrong credentials: the appliance's 401 in the error, never the password", async () => {
    const err = await balancer({ password: "wrong-password-123" }).addNodes("web", ["10.0.0.9:80"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BalancerError);
    expect((err as Error).message).toBe("balancer appliance: GET pool web: HTTP 401 auth.invalid: Authentication failed");
    expect((err as Error).message).not.toContain("wrong-password-123");
  });

  it("a self-signed certificate is refused unless insecure is set", async () => {
    const err = await balancer({ insecure: false }).getNodes("web").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BalancerError);
    expect((err as Error).message).toMatch(/^balancer appliance: cannot reach https:\/\/127\.0\.0\.1:\d+\/api\/tm\/7\.0\/config\/active\/pools\/web: .*(self.signed|SELF_SIGNED)/i);
  });

  it("a PUT the appliance rejects fails with its error_id and text, and the pool stays as it was", async () => {
    const b = balancer();
    await b.addNodes("guarded", ["10.0.0.1:80"]);
    const before = structuredClone(vtm.pools.get("guarded"));
    const err = await b.addNodes("guarded", ["not a node"]).catch((e: unknown) => e);
    expect((err as Error).message).toBe("balancer appliance: PUT pool guarded: HTTP 400 resource.validation_error: basic/nodes_table[1]/node: invalid node 'not a node'");
    expect(vtm.pools.get("guarded")).toEqual(before);
  });

  it("an appliance that does not answer names the URL", async () => {
    const err = await balancer({ url: "https://127.0.0.1:1/api/tm/7.0" }).getNodes("web").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^balancer appliance: cannot reach https:\/\/127\.0\.0\.1:1\/.*ECONNREFUSED/);
  });
});

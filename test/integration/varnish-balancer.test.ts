/** The Varnish backend against a real varnishd (transport local): traffic moves, a VCL that vcl.load refuses changes nothing. */
import { mkdtemp, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BalancerError } from "../../balancers/balancer.ts";
import { VarnishBalancer } from "../../balancers/varnish.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { get, startEchoNode, type EchoNode } from "../support/echo-node.ts";
import { releasePorts, reservePort } from "../support/testbed/ports.ts";
import { startVarnish, type TestVarnish } from "../support/varnish.ts";

let dir: string;
let v: TestVarnish;
let lb: VarnishBalancer;
let a: EchoNode;
let b: EchoNode;
const held: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "raptor-varnish-"));
  const port = await reservePort(18480, 1, ["127.0.0.1"], held);
  v = await startVarnish({ prefix: dir, address: "127.0.0.1", port, pools: ["web"] });
  lb = new VarnishBalancer({ name: "cache", hosts: [new LocalHost("127.0.0.1")], includeDir: v.includeDir, vcl: v.vcl, validate: [], varnishadm: v.varnishadm });
  [a, b] = await Promise.all([startEchoNode("a"), startEchoNode("b")]);
}, 60_000);

afterAll(async () => {
  await v?.stop();
  await Promise.all([a?.close(), b?.close()]);
  releasePorts(held);
  await rm(dir, { recursive: true, force: true });
});

describe("Varnish backend (real varnishd)", () => {
  it("routes to the nodes added; vcl.use makes it take effect at once; old raptor VCLs are discarded", async () => {
    const progress: string[] = [];
    await lb.addNodes("web", [a.node], { progress: (m) => void progress.push(m) });
    expect(progress[0]).toMatch(/^127\.0\.0\.1: \+1, loaded as raptor_\d+_[0-9a-f]+ \(1 node\)$/);
    expect((await get(v.url())).body).toBe("a");
    await lb.addNodes("web", [b.node]);
    await lb.deleteNodes("web", [a.node]);
    expect((await get(v.url())).body).toBe("b");
    expect(await lb.getNodes("web")).toEqual([b.node]);
    const { execFileSync } = await import("node:child_process");
    const list = execFileSync(v.varnishadm[0]!, [...v.varnishadm.slice(1), "vcl.list"], { encoding: "utf8" });
    expect(list.split("\n").filter((l) => /raptor_/.test(l) && /^available/.test(l))).toEqual([]);
  });

  it("a VCL that vcl.load refuses: the error carries Varnish's own message, the pool file is put back, traffic unchanged", async () => {
    const before = await readFile(join(v.includeDir, "web.vcl"), "utf8");
    const poolsBefore = await readFile(join(v.includeDir, "pools.vcl"), "utf8");
    // An operator's typo that reaches the compiled VCL through pools.vcl.
    await writeFile(join(v.includeDir, "typo.vcl"), "sub vcl_recv { set req.nope = 1; }\n", { mode: 0o644 });
    await appendFile(join(v.includeDir, "pools.vcl"), `include "${v.includeDir}/typo.vcl";\n`);
    try {
      const e = (await lb.addNodes("web", [a.node]).catch((x: unknown) => x)) as BalancerError;
      expect(e).toBeInstanceOf(BalancerError);
      expect(e.message).toMatch(/^balancer cache on 127\.0\.0\.1: `varnishadm -n .* vcl\.load raptor_\d+_[0-9a-f]+ .*main\.vcl` failed \(exit 1\): .*req\.nope/s);
      expect(await readFile(join(v.includeDir, "web.vcl"), "utf8")).toBe(before);
      expect((await get(v.url())).body).toBe("b");
    } finally {
      await writeFile(join(v.includeDir, "pools.vcl"), poolsBefore);
      await rm(join(v.includeDir, "typo.vcl"), { force: true });
    }
  });
});

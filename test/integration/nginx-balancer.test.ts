/**
 * The nginx backend against real nginx: two balancer hosts (testbed hosts 127.0.0.2 and .3, each
 * reached over SSH, each running its own nginx with its own prefix), real HTTP through them.
 */
import { readFile, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BalancerError, type Balancer } from "../../balancers/balancer.ts";
import { balancerFor } from "../../balancers/registry.ts";
import { parsePlaybookFiles } from "../../playbooks/load.ts";
import type { BalancerConfig } from "../../playbooks/types.ts";
import { HostCache } from "../../runners/host-cache.ts";
import { get, startEchoNode, type EchoNode } from "../support/echo-node.ts";
import { nginxArgv, startNginx, type TestNginx } from "../support/nginx.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";
import { reservePort, releasePorts } from "../support/testbed/ports.ts";

const POOL = "web_test";
let tb: Testbed;
let redis: Redis;
let hosts: HostCache;
const nginxes: TestNginx[] = [];
const held: string[] = [];
let a: EchoNode;
let b: EchoNode;
const prefix = `raptor-test-nginx-${process.pid}:`;

/** A balancer over both testbed hosts, as a playbook declares it (`{host}` keeps their files apart). */
function configYaml(over: Record<string, string> = {}): BalancerConfig {
  const dir = join(tb.dir, "nginx", "{host}");
  const argv = JSON.stringify(nginxArgv(dir));
  const q = JSON.stringify;
  const keys: Record<string, string> = {
    kind: "nginx",
    hosts: q(tb.hosts.map((h) => h.name)),
    ssh: `{ user: ${q(tb.user)}, port: ${tb.hosts[0]!.sshPort}, key: ${q(tb.sshKeyPath)}, known_hosts: ${q(tb.knownHostsPath)} }`,
    include_dir: q(join(dir, "raptor")),
    validate: `[${argv.slice(1, -1)}, "-t", "-q"]`,
    reload: `[${argv.slice(1, -1)}, "-s", "reload"]`,
    ...over,
  };
  const text = `balancers:\n  edge:\n${Object.entries(keys).map(([k, v]) => `    ${k}: ${v}`).join("\n")}\n`;
  const parsed = parsePlaybookFiles([{ path: "lb.yaml", text }], {});
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
  return parsed.playbook.balancers.edge!;
}

const balancer = (over?: Record<string, string>): Balancer => balancerFor(configYaml(over), { redis, prefix, hosts });
const poolFile = (n: TestNginx) => join(n.includeDir, `${POOL}.conf`);
const bodies = async () => Promise.all(nginxes.map(async (n) => (await get(n.url())).body));
/** What both nginxes answer once their reloads took effect (`nginx -s reload` only signals the master). */
const answers = (expected: string[]) => until(bodies, (v) => JSON.stringify(v) === JSON.stringify(expected));

/** Polls `probe` until `done` holds (nginx applies a reload asynchronously); fails after 5 s with the last value. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(v)} after 5s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  tb = await startTestbed({ hosts: 2 });
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 2 });
  hosts = new HostCache();
  const port = await reservePort(18080, 1, tb.hosts.map((h) => h.name), held);
  for (const h of tb.hosts) nginxes.push(await startNginx({ prefix: join(tb.dir, "nginx", h.name), address: h.name, port, pools: [POOL] }));
  [a, b] = await Promise.all([startEchoNode("a"), startEchoNode("b")]);
}, 60_000);

afterAll(async () => {
  await Promise.all(nginxes.map((n) => n.stop()));
  await Promise.all([a?.close(), b?.close()]);
  await hosts?.closeAll();
  redis?.disconnect();
  releasePorts(held);
  await tb?.stop();
});

beforeEach(async () => {
  // Every test starts from an empty pool on both hosts.
  await balancer().deleteNodes(POOL, [a.node, b.node]);
});

describe("nginx backend on two balancer hosts (real nginx over SSH)", () => {
  it("routes to the nodes added, on every host; removing them all leaves the placeholder (502, config still loads)", async () => {
    const lb = balancer();
    const progress: string[] = [];
    expect(await lb.addNodes(POOL, [a.node], { progress: (m) => void progress.push(m) })).toEqual([a.node]);
    // A change returns once it is live for new requests (the reload is confirmed): no polling.
    expect(await bodies()).toEqual(["a", "a"]);
    expect(progress).toEqual([`127.0.0.2: +1, nginx ok, reloaded (1 node)`, `127.0.0.3: +1, nginx ok, reloaded (1 node)`]);

    await lb.addNodes(POOL, [b.node]);
    await lb.deleteNodes(POOL, [a.node]);
    expect(await bodies()).toEqual(["b", "b"]);
    expect(await lb.getNodes(POOL)).toEqual([b.node]);

    expect(await lb.deleteNodes(POOL, [b.node])).toEqual([]);
    expect((await Promise.all(nginxes.map((n) => get(n.url())))).map((r) => r.status)).toEqual([502, 502]);
    for (const n of nginxes) expect(await readFile(poolFile(n), "utf8")).toContain("down; # raptor: empty pool placeholder");
  });

  it("adding a node already there changes nothing and reloads nothing", async () => {
    const lb = balancer();
    await lb.addNodes(POOL, [a.node]);
    const progress: string[] = [];
    await lb.addNodes(POOL, [a.node], { progress: (m) => void progress.push(m) });
    expect(progress).toEqual(["127.0.0.2: already so", "127.0.0.3: already so"]);
  });

  it("a config the validator rejects on one host: that host's file is put back, the other host is put back too, traffic unchanged", async () => {
    const lb = balancer();
    await lb.addNodes(POOL, [a.node]);
    const before = await Promise.all(nginxes.map((n) => readFile(poolFile(n), "utf8")));
    // Someone left a broken file in host 2's include dir: nginx -t fails there, and only there.
    const broken = join(nginxes[1]!.includeDir, "zz-broken.conf");
    await writeFile(broken, "upstream broken { server; }\n");
    try {
      const err = await lb.addNodes(POOL, [b.node]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BalancerError);
      const e = err as BalancerError;
      expect(e.host).toBe("127.0.0.3");
      expect(e.message).toMatch(/^balancer edge on 127\.0\.0\.3: `nginx -p .* -t -q` failed \(exit 1\): nginx: \[emerg\] invalid number of arguments in "server" directive/);
      expect(e.message).toContain("127.0.0.2 was put back to the previous pool");
      expect(await Promise.all(nginxes.map((n) => readFile(poolFile(n), "utf8")))).toEqual(before);
      expect(await answers(["a", "a"])).toEqual(["a", "a"]);
      // No temp file is left behind in either include dir.
      const { readdir } = await import("node:fs/promises");
      for (const n of nginxes) expect((await readdir(n.includeDir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
    } finally {
      await rm(broken, { force: true });
    }
  });

  it("a balancer host that is down: the change fails naming it, and the host that took it is put back", async () => {
    const lb = balancer();
    await lb.addNodes(POOL, [a.node]);
    await tb.stopSshd("127.0.0.3");
    await hosts.closeAll(); // the pooled connection to .3 would outlive its sshd
    try {
      const e = (await lb.addNodes(POOL, [b.node]).catch((x: unknown) => x)) as BalancerError;
      expect(e).toBeInstanceOf(BalancerError);
      expect(e.message).toMatch(/^balancer edge on 127\.0\.0\.3: cannot reach host 127\.0\.0\.3: .*(refused|ECONNREFUSED)/i);
      expect(e.message).toContain("127.0.0.2 was put back to the previous pool");
      expect(await readFile(poolFile(nginxes[0]!), "utf8")).not.toContain(b.node);
      expect(await answers(["a", "a"])).toEqual(["a", "a"]);
    } finally {
      await tb.startSshd("127.0.0.3");
    }
  });

  it("an SSH key the balancer host refuses: fails naming the host, nothing changes", async () => {
    const { execFileSync } = await import("node:child_process");
    const otherKey = join(tb.dir, "client", "other_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    const cfg = configYaml();
    const lb = balancerFor({ ...cfg, ssh: { ...cfg.ssh, key: otherKey } }, { redis, prefix, hosts });
    const e = (await lb.addNodes(POOL, [b.node]).catch((x: unknown) => x)) as BalancerError;
    expect(e).toBeInstanceOf(BalancerError);
    expect(e.message).toMatch(/^balancer edge on 127\.0\.0\.\d: cannot reach host 127\.0\.0\.\d: .*refused the key/);
    expect(await Promise.all(nginxes.map((n) => readFile(poolFile(n), "utf8").then((t) => t.includes(b.node))))).toEqual([false, false]);
  });

  it("a reload that fails puts the previous file back on that host", async () => {
    const lb = balancer({ reload: `[sh, -c, "exit 3"]` });
    const err = (await lb.addNodes(POOL, [a.node]).catch((x: unknown) => x)) as BalancerError;
    expect(err.message).toMatch(/`sh -c 'exit 3'` failed \(exit 3\)/);
    for (const n of nginxes) expect(await readFile(poolFile(n), "utf8")).not.toContain(a.node);
  });
});

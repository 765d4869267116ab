/**
 * A real varnishd for tests: its own work dir (`-n`, so several run at once and varnishadm finds
 * the right one), its main VCL including Raptor's pools.vcl, routing `/` to the first pool with no
 * caching (`return (pass)`) and no retries. Runs in the foreground (-F) as our child. varnishd
 * compiles VCL as its unprivileged user, so the prefix and everything in it is world-readable.
 */
import type { ChildProcess } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderPoolsVcl, renderVarnishPool } from "../../balancers/varnish-config.ts";
import { spawnDaemon, stopChild, waitForPort } from "./testbed/processes.ts";

export interface TestVarnish {
  address: string;
  port: number;
  prefix: string;
  includeDir: string;
  /** The main VCL and the argv for the balancer's `vcl`, `validate` and `varnishadm` keys. */
  vcl: string;
  validate: string[];
  varnishadm: string[];
  url(path?: string): string;
  stop(): Promise<void>;
}

/** The operator's main VCL of a test varnish, as docs/balancers.md tells an operator to write it. */
export function varnishVcl(includeDir: string, pools: readonly string[]): string {
  return `vcl 4.1;
import directors;
backend default none;
include "${includeDir}/pools.vcl";
sub vcl_recv {
    set req.backend_hint = ${pools[0]}.backend();
    return (pass);
}
sub vcl_backend_fetch {
    if (bereq.retries > 0) { return (abandon); }
}
`;
}

export async function startVarnish(opts: { prefix: string; address: string; port: number; pools: readonly string[] }): Promise<TestVarnish> {
  const { prefix, address, port, pools } = opts;
  const includeDir = join(prefix, "raptor");
  const work = join(prefix, "work");
  await mkdir(includeDir, { recursive: true });
  // varnishd's compiler runs as its own user: every directory on the way must be searchable.
  for (let d = prefix; d !== "/" && d !== "/tmp"; d = join(d, "..")) await chmod(d, 0o755).catch(() => {});
  await chmod(includeDir, 0o755);
  for (const pool of pools) await writeFile(join(includeDir, `${pool}.vcl`), renderVarnishPool("test", pool, []), { mode: 0o644 });
  await writeFile(join(includeDir, "pools.vcl"), renderPoolsVcl(includeDir, pools), { mode: 0o644 });
  const vcl = join(prefix, "main.vcl");
  await writeFile(vcl, varnishVcl(includeDir, pools), { mode: 0o644 });
  const args = ["-F", "-n", work, "-a", `${address}:${port}`, "-f", vcl, "-s", "malloc,16m", "-T", "127.0.0.1:0", "-p", "thread_pool_min=5", "-p", "thread_pools=1"];
  const child: ChildProcess = spawnDaemon("varnishd", args, join(prefix, "varnishd.log"));
  await waitForPort(address, port, child, () => `see ${join(prefix, "varnishd.log")}`);
  return {
    address,
    port,
    prefix,
    includeDir,
    vcl,
    validate: ["varnishd", "-C", "-n", work, "-f", vcl],
    varnishadm: ["varnishadm", "-n", work],
    url: (path = "/") => `http://${address}:${port}${path}`,
    stop: () => stopChild(child, "SIGTERM", 10_000, true),
  };
}

/**
 * bench/layout-ops: how many remote operations laying out and starting 12 procs on 3 hosts takes
 * (issue 14, fault 2), counted on real SSH hosts and real supervisords of a test bed: SSH exec
 * channels, SFTP uploads (each is several SFTP requests: open, write, close, chmod, rename) and
 * supervisord XML-RPC calls. Does what a deployment's start step does per host (engine/host-work.ts):
 * upload the build (skipped when its md5 matches), then start the host's procs. Runs unchanged
 * against older code that only had `startProc` (one proc at a time, 3 at once per host), so the
 * before/after figures come from the same file.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessRunner, type ProcSpec } from "../runners/process-runner.ts";
import { SshHost } from "../runners/ssh-host.ts";
import { createSupervisor } from "../runners/supervisor/xmlrpc-client.ts";
import type { Supervisor } from "../runners/supervisor/types.ts";
import { startTestbed } from "../test/support/testbed.ts";

const PROCS = 12;

async function main() {
  const bed = await startTestbed({ hosts: 3 });
  const tmp = mkdtempSync(join(tmpdir(), "raptor-ops-"));
  mkdirSync(join(tmp, "src"));
  writeFileSync(join(tmp, "src", "server.js"), `require("http").createServer((q, s) => s.end("ok")).listen(+process.env.PORT, process.env.HOST);\n`);
  const tarball = join(tmp, "build.tar.gz");
  execFileSync("tar", ["-czf", tarball, "-C", join(tmp, "src"), "."]);
  const build = { id: "b-ops", md5: createHash("md5").update(readFileSync(tarball)).digest("hex") };
  const runner = new ProcessRunner() as ProcessRunner & { startProcs?: (h: SshHost, s: Supervisor, specs: ProcSpec[]) => Promise<void> };
  const counts = { exec: 0, upload: 0, xmlrpc: new Map<string, number>() };
  const root = join(bed.dir, "hosts", "{host}");
  try {
    const perHost = await Promise.all(
      bed.hosts.map(async (b, hi) => {
        const host = new SshHost({ host: b.name, port: b.sshPort, user: bed.user, keyPath: bed.sshKeyPath, knownHostsPath: bed.knownHostsPath });
        // Counted on the instance, so SshHost's own calls (upload's mkdir) are counted too.
        const exec = host.exec.bind(host);
        host.exec = (argv, o) => (counts.exec++, exec(argv, o));
        const upload = host.upload.bind(host);
        host.upload = (d, p, m) => (counts.upload++, upload(d, p, m));
        await host.exec(["id", "-u"]); // connect; not counted below
        const inner = createSupervisor({ url: b.supervisorUrl, username: bed.supervisor.username, password: bed.supervisor.password });
        const sup = new Proxy(inner, {
          get: (t, k: keyof Supervisor) => (...a: unknown[]) => (counts.xmlrpc.set(String(k), (counts.xmlrpc.get(String(k)) ?? 0) + 1), (t[k] as (...x: unknown[]) => unknown)(...a)),
        });
        const specs: ProcSpec[] = [];
        for (let i = hi; i < PROCS; i += bed.hosts.length) {
          const port = bed.appPorts.from + i;
          specs.push({ name: `ops-bench-v1-web-${port}`, app: "ops", env: "bench", procType: "web", release: 1, port, hostName: b.name, root, build, cmd: "exec node server.js", config: { A: "1" }, settings: {} });
        }
        return { host, sup, specs };
      }),
    );
    counts.exec = 0;
    const t0 = performance.now();
    await Promise.all(
      perHost.map(async ({ host, sup, specs }) => {
        await runner.uploadBuild(host, { buildId: build.id, md5: build.md5, localPath: tarball, root });
        if (runner.startProcs) await runner.startProcs(host, sup, specs);
        else {
          // The code before issue 14: one proc at a time, three at once per host.
          const queue = [...specs];
          await Promise.all([0, 1, 2].map(async () => {
            for (let s = queue.shift(); s; s = queue.shift()) await runner.startProc(host, sup, s);
          }));
        }
      }),
    );
    const ms = performance.now() - t0;
    const rpc = [...counts.xmlrpc.values()].reduce((a, b) => a + b, 0);
    console.log(`layout-ops: ${PROCS} procs on ${bed.hosts.length} hosts, build already on none of them (uploaded once per host)`);
    console.log(`  SSH exec channels  ${counts.exec}`);
    console.log(`  SFTP uploads       ${counts.upload}`);
    console.log(`  XML-RPC calls      ${rpc}  (${[...counts.xmlrpc].map(([k, v]) => `${k} ${v}`).join(", ")})`);
    console.log(`  remote operations  ${counts.exec + counts.upload + rpc}  (${((counts.exec + counts.upload + rpc) / PROCS).toFixed(1)} per proc)`);
    console.log(`  wall time          ${ms.toFixed(0)} ms (informational: one run)`);
    for (const { host, sup, specs } of perHost) {
      for (const s of specs) await runner.removeProc(host, sup, { name: s.name, root });
      await host.close();
    }
  } finally {
    await bed.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

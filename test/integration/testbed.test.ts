import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startTestbed, type Testbed } from "../support/testbed.ts";

/**
 * Daemons whose command line mentions `dir` (sshd and supervisord carry their config path). sshd's
 * short-lived per-connection children (re-executed with -R, e.g. for a readiness probe) are left out.
 */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
      continue;
    }
    if (cmdline.includes(dir) && /sshd|supervisord/.test(cmdline) && !/ -R\b/.test(cmdline)) found.push(`${pid} ${cmdline}`);
  }
  return found;
}

async function getState(url: string, auth: { username: string; password: string }): Promise<string> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "text/xml",
      authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`,
    },
    body: `<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params/></methodCall>`,
  });
  expect(res.status).toBe(200);
  return res.text();
}

describe("testbed", () => {
  let tb: Testbed | undefined;
  afterAll(async () => {
    await tb?.stop();
  });

  it("brings up 3 hosts, each with sshd and an answering supervisord, and leaves nothing behind", async () => {
    const t0 = Date.now();
    tb = await startTestbed({ hosts: 3 });
    const startMs = Date.now() - t0;
    expect(tb.hosts.map((h) => h.name)).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
    for (const h of tb.hosts) {
      expect(h.supervisorUrl).toMatch(new RegExp(`^http://${h.name.replace(/\./g, "\\.")}:\\d+/RPC2$`));
      expect(await getState(h.supervisorUrl, tb.supervisor)).toContain("<string>RUNNING</string>");
      expect(existsSync(join(h.root, "supervisor"))).toBe(true);
    }
    // Wrong password is refused: the auth really is on.
    const res = await fetch(tb.hosts[0]!.supervisorUrl, { method: "POST", body: "" });
    expect(res.status).toBe(401);

    const known = readFileSync(tb.knownHostsPath, "utf8").trim().split("\n");
    expect(known.map((l) => l.split(" ")[0])).toEqual(tb.hosts.map((h) => `[${h.name}]:${h.sshPort}`));

    const yaml = tb.squadYaml("bed");
    expect(yaml).toContain(`    supervisor: { url: "http://{host}:`);
    expect(yaml).toContain(`    root: "${tb.dir}/hosts/{host}"`);
    expect(tb.squadYaml("bed", { ports: "6000-6009" })).toContain("    ports: 6000-6009\n");

    expect(processesUnder(tb.dir)).toHaveLength(6);
    const t1 = Date.now();
    const dir = tb.dir;
    await tb.stop();
    tb = undefined;
    console.log(`testbed: 3 hosts up in ${startMs} ms, down in ${Date.now() - t1} ms`);
    expect(processesUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it("stops and restarts one host's sshd", async () => {
    tb = await startTestbed({ hosts: 2 });
    const [a, b] = tb.hosts;
    await tb.stopSshd(a!.name);
    expect(processesUnder(join(tb.dir, "etc", a!.name, "sshd_config"))).toEqual([]);
    // The readiness probe's connection makes sshd fork a short-lived per-connection child that
    // carries the same command line; count once it has gone (deadline, not a fixed sleep).
    expect(await settledCount(() => processesUnder(join(tb!.dir, "etc", b!.name, "sshd_config")).length, 1)).toBe(1);
    await tb.startSshd(a!.name);
    expect(await settledCount(() => processesUnder(join(tb!.dir, "etc", a!.name, "sshd_config")).length, 1)).toBe(1);
    await tb.stop();
    tb = undefined;
  });

  it("reaps the daemons of a bed whose test process crashed", async () => {
    const scratch = await mkdtemp(join(tmpdir(), "raptor-crash-"));
    const script = join(scratch, "crash.mts");
    const testbedModule = fileURLToPath(new URL("../support/testbed.ts", import.meta.url));
    await writeFile(
      script,
      `import { startTestbed } from ${JSON.stringify(testbedModule)};\n` +
        `const tb = await startTestbed({ hosts: 1 });\n` +
        `console.log(tb.dir);\n` +
        `setInterval(() => {}, 1000);\n`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
    const dir = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`crash script exited early (${code})`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(await settledCount(() => processesUnder(dir).length, 2)).toBe(2);

    tb = await startTestbed({ hosts: 1 });
    expect(processesUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(await getState(tb.hosts[0]!.supervisorUrl, tb.supervisor)).toContain("RUNNING");
    await tb.stop();
    tb = undefined;
    await rm(scratch, { recursive: true, force: true });
  });
});

/** Polls `count` until it equals `want` or 5 s pass, and returns the last value. */
async function settledCount(count: () => number, want: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let n = count();
  while (n !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    n = count();
  }
  return n;
}

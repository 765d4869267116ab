import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostUnreachableError } from "../../runners/host.ts";
import { HostCache } from "../../runners/host-cache.ts";
import { LocalHost } from "../../runners/local-host.ts";
import { verifyHostKey } from "../../runners/known-hosts.ts";
import { SshHost, type SshHostOptions } from "../../runners/ssh-host.ts";
import { hostContract } from "../contract/host.contract.ts";
import { startTestbed, type Testbed } from "../support/testbed.ts";

let tb: Testbed;
let scratchRoot: string;
beforeAll(async () => {
  // The second host's sshd has no sftp subsystem (hardened hosts leave it out).
  tb = await startTestbed({ hosts: 2, quirks: { 1: { sftp: false } } });
  scratchRoot = await mkdtemp(join(tmpdir(), "raptor-localhost-"));
});
afterAll(async () => {
  await tb?.stop();
  await rm(scratchRoot, { recursive: true, force: true });
});

const sshOptions = (over: Partial<SshHostOptions> = {}): SshHostOptions => ({
  host: tb.hosts[0]!.name,
  port: tb.hosts[0]!.sshPort,
  user: tb.user,
  keyPath: tb.sshKeyPath,
  knownHostsPath: tb.knownHostsPath,
  connectTimeoutMs: 5_000,
  ...over,
});

/** Connections sshd accepted so far: one log line per authenticated connection. */
async function acceptedConnections(): Promise<number> {
  return (await tb.sshdLog(tb.hosts[0]!.name)).split("\n").filter((l) => l.includes("Accepted publickey")).length;
}

async function unreachable(p: Promise<unknown>): Promise<HostUnreachableError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HostUnreachableError);
  return e as HostUnreachableError;
}

describe("LocalHost", () => {
  hostContract(async () => {
    const scratch = join(scratchRoot, "contract");
    const host = new LocalHost();
    await host.exec(["mkdir", "-p", scratch]);
    return { host, scratch };
  });
});

describe("SshHost", () => {
  hostContract(async () => {
    const host = new SshHost(sshOptions());
    const scratch = join(tb.hosts[0]!.root, "contract");
    await host.exec(["mkdir", "-p", scratch]);
    return { host, scratch };
  });
});

describe("SshHost on an sshd without the sftp subsystem (uploads through an exec channel)", () => {
  const noSftp = () => sshOptions({ host: tb.hosts[1]!.name });
  hostContract(async () => {
    const host = new SshHost(noSftp());
    const scratch = join(tb.hosts[1]!.root, "contract");
    await host.exec(["mkdir", "-p", scratch]);
    return { host, scratch };
  });

  it("uploads a large stream intact and says it went through exec; the SFTP host says sftp", async () => {
    const host = new SshHost(noSftp());
    const sftpHost = new SshHost(sshOptions());
    try {
      const big = Buffer.alloc(6 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
      const path = join(tb.hosts[1]!.root, "big", "build.tar.gz");
      const chunks = Array.from({ length: 24 }, (_, i) => big.subarray(i * 262_144, (i + 1) * 262_144));
      await host.upload(Readable.from(chunks), path, 0o600);
      const sum = (await host.exec(["sh", "-c", 'md5sum < "$1"; stat -c %a "$1"', "sh", path])).stdout.split(/\s+/);
      expect(sum[0]).toBe(createHash("md5").update(big).digest("hex"));
      expect(sum[sum.length - 2]).toBe("600");
      expect(host.uploadVia()).toBe("exec");
      expect((await host.exec(["sh", "-c", 'ls -a "$1"', "sh", join(tb.hosts[1]!.root, "big")])).stdout.trim().split("\n").sort()).toEqual([".", "..", "build.tar.gz"]);
      await sftpHost.upload("x", join(tb.hosts[0]!.root, "probe.txt"));
      expect(sftpHost.uploadVia()).toBe("sftp");
    } finally {
      await host.close();
      await sftpHost.close();
    }
  });

  it("a failing upload through exec says why and leaves no temp file", async () => {
    const host = new SshHost(noSftp());
    try {
      const dir = join(tb.hosts[1]!.root, "ro");
      await host.exec(["mkdir", "-p", join(dir, "target")]);
      // The destination is a directory: mv cannot replace it with a file.
      await expect(host.upload("data", join(dir, "target"))).rejects.toThrow(/through an exec channel: no SFTP\) failed/);
      expect((await host.exec(["ls", "-a", dir])).stdout.trim().split("\n").sort()).toEqual([".", "..", "target"]);
    } finally {
      await host.close();
    }
  });
});

describe("SshHost connections", () => {
  it("uses one connection for many execs and uploads", async () => {
    const before = await acceptedConnections();
    const host = new SshHost(sshOptions());
    try {
      for (let i = 0; i < 5; i++) expect((await host.exec(["true"])).code).toBe(0);
      await Promise.all(Array.from({ length: 15 }, () => host.exec(["true"])));
      await host.upload("x", join(tb.hosts[0]!.root, "pooled/x.txt"));
    } finally {
      await host.close();
    }
    expect((await acceptedConnections()) - before).toBe(1);
  });

  it("fails with a clear message when the host key is not in known_hosts", async () => {
    const empty = join(tb.dir, "empty_known_hosts");
    await writeFile(empty, "# nothing here\n");
    const e = await unreachable(new SshHost(sshOptions({ knownHostsPath: empty })).exec(["true"]));
    const { name, sshPort } = tb.hosts[0]!;
    expect(e.host).toBe(name);
    expect(e.message).toContain(`host key for ${name}:${sshPort} is not in ${empty}`);
  });

  it("fails when the host key changed", async () => {
    const { name, sshPort } = tb.hosts[0]!;
    const pub = (await import("node:fs")).readFileSync(`${tb.sshKeyPath}.pub`, "utf8").split(" ");
    const wrong = join(tb.dir, "wrong_known_hosts");
    await writeFile(wrong, `[${name}]:${sshPort} ${pub[0]} ${pub[1]}\n`);
    const e = await unreachable(new SshHost(sshOptions({ knownHostsPath: wrong })).exec(["true"]));
    expect(e.message).toContain(`host key for ${name}:${sshPort} does not match the one in ${wrong}`);
  });

  it("fails when the user is refused, and never shows the key", async () => {
    const e = await unreachable(new SshHost(sshOptions({ user: "raptor-no-such-user" })).exec(["true"]));
    expect(e.message).toMatch(/refused the key .* for user raptor-no-such-user/);
    expect(e.message).not.toMatch(/PRIVATE KEY/);
  });

  it("fails when the key file is missing, naming the file", async () => {
    const e = await unreachable(new SshHost(sshOptions({ keyPath: "/nonexistent/key" })).exec(["true"]));
    expect(e.message).toContain("/nonexistent/key");
  });

  it("reconnects transparently when the pooled connection dropped while idle", async () => {
    const { name } = tb.hosts[0]!;
    const pooled = new SshHost(sshOptions());
    try {
      expect((await pooled.exec(["true"])).code).toBe(0);
      await tb.stopSshd(name); // kills the live session too
      await tb.startSshd(name);
      expect((await pooled.exec(["echo", "again"])).stdout).toBe("again\n");
    } finally {
      await pooled.close();
    }
  });

  it("reports a stopped sshd as unreachable, naming the host, and reconnects when it is back", async () => {
    const { name } = tb.hosts[0]!;
    const pooled = new SshHost(sshOptions());
    try {
      expect((await pooled.exec(["true"])).code).toBe(0);
      await tb.stopSshd(name);
      try {
        const e1 = await unreachable(new SshHost(sshOptions()).exec(["true"]));
        expect(e1.host).toBe(name);
        expect(e1.message).toMatch(new RegExp(`cannot reach host ${name.replace(/\./g, "\\.")}: connection refused`));
        // The pooled connection died with the host: the next call tries to reconnect, and fails.
        await unreachable(pooled.exec(["true"]));
      } finally {
        await tb.startSshd(name);
      }
      expect((await pooled.exec(["echo", "back"])).stdout).toBe("back\n");
    } finally {
      await pooled.close();
    }
  });
});

describe("HostCache", () => {
  it("gives one Host per (transport, host, port, user) and closes them all", async () => {
    const pool = new HostCache();
    const squad = {
      transport: "ssh" as const,
      ssh: { user: tb.user, port: tb.hosts[0]!.sshPort, key: tb.sshKeyPath, known_hosts: tb.knownHostsPath },
    };
    const a = pool.get(squad, tb.hosts[0]!.name);
    expect(pool.get(squad, tb.hosts[0]!.name)).toBe(a);
    expect(pool.get({ ...squad, ssh: { ...squad.ssh, user: "other" } }, tb.hosts[0]!.name)).not.toBe(a);
    expect(pool.get({ transport: "local", ssh: squad.ssh }, "here")).toBeInstanceOf(LocalHost);
    expect((await a.exec(["echo", "ok"])).stdout).toBe("ok\n");
    await pool.closeAll();
  });

  it("refuses an ssh squad without known_hosts when used", async () => {
    const pool = new HostCache();
    const host = pool.get({ transport: "ssh", ssh: { user: "root", port: 22, key: tb.sshKeyPath } }, "h1");
    const e = await unreachable(host.exec(["true"]));
    expect(e.message).toContain("known_hosts");
  });
});

describe("verifyHostKey", () => {
  const blob = (b64: string) => Buffer.from(b64, "base64");

  it("matches hashed entries written by ssh-keygen -H", async () => {
    const hashed = join(tb.dir, "hashed_known_hosts");
    await copyFile(tb.knownHostsPath, hashed);
    execFileSync("ssh-keygen", ["-q", "-H", "-f", hashed], { stdio: "ignore" });
    const text = await readFile(hashed, "utf8");
    expect(text.startsWith("|1|")).toBe(true);
    const { name, sshPort } = tb.hosts[0]!;
    const key = blob((await readFile(tb.knownHostsPath, "utf8")).split("\n")[0]!.split(" ")[2]!.trim());
    expect(verifyHostKey(text, name, sshPort, key)).toBe("ok");
    expect(verifyHostKey(text, name, sshPort + 1, key)).toBe("unknown");
    const host = new SshHost(sshOptions({ knownHostsPath: hashed }));
    expect((await host.exec(["true"])).code).toBe(0);
    await host.close();
  });
});

/**
 * The contract every Host implementation passes (LocalHost, SshHost). Call inside a `describe`:
 * `hostContract(async () => ({ host, scratch }))`, where `scratch` is an empty writable directory
 * on that host. Everything is checked through the Host itself, never the local filesystem.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Host } from "../../runners/host.ts";

export interface ContractSubject {
  host: Host;
  /** An existing, empty, writable directory on the host. */
  scratch: string;
}

/** Arguments that would do damage if they ever reached a shell unquoted. */
export const HOSTILE_ARGS = [
  "'", "''", '"', "\\", "$(touch /tmp/raptor-pwned)", "`touch /tmp/raptor-pwned`", "${HOME}", "$HOME",
  "a; touch /tmp/raptor-pwned", "a && b", "a | b", "(x)", "{a,b}", "line1\nline2", "\t", " lead", "trail ",
  "*", "?", "[a-z]", "~", "!", "#c", "héllo wörld", "日本語 🦖", "", "-rf", "--", "-n", "<in", ">out", "2>&1", "%s",
];

function sha256(b: Buffer | string): string {
  return createHash("sha256").update(b).digest("hex");
}

export function hostContract(setup: () => Promise<ContractSubject>): void {
  let host: Host;
  let scratch: string;
  beforeAll(async () => {
    ({ host, scratch } = await setup());
  });
  afterAll(async () => {
    await host?.close();
  });

  const read = async (path: string) => (await host.exec(["cat", "--", path])).stdout;

  it("passes hostile arguments through exactly", async () => {
    const r = await host.exec(["printf", "%s\\0", ...HOSTILE_ARGS]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(HOSTILE_ARGS);
    expect((await host.exec(["test", "-e", "/tmp/raptor-pwned"])).code).not.toBe(0);
  });

  it("passes env values exactly, over the host's own environment", async () => {
    const value = "it's $(id) `id` ${HOME}\nnext;line";
    const r = await host.exec(["sh", "-c", 'printf "%s|%s" "$RAPTOR_A" "$RAPTOR_B"'], {
      env: { RAPTOR_A: value, RAPTOR_B: "" },
    });
    expect(r).toMatchObject({ code: 0, stdout: `${value}|` });
    expect((await host.exec(["sh", "-c", 'test -n "$PATH"'])).code).toBe(0);
  });

  it("does not hand Raptor's own environment (its secrets) to commands", async () => {
    process.env.RAPTOR_TEST_SECRET = "xoxb-not-for-app-code";
    try {
      const r = await host.exec(["env"], { env: { RAPTOR_GIVEN: "yes" } });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain("RAPTOR_TEST_SECRET");
      expect(r.stdout).not.toContain("xoxb-not-for-app-code");
      expect(r.stdout).toMatch(/^RAPTOR_GIVEN=yes$/m);
      expect(r.stdout).toMatch(/^PATH=/m);
    } finally {
      delete process.env.RAPTOR_TEST_SECRET;
    }
  });

  it("runs in cwd, including a directory with spaces and quotes", async () => {
    const dir = `${scratch}/it's a dir`;
    expect((await host.exec(["mkdir", "-p", dir])).code).toBe(0);
    const r = await host.exec(["pwd", "-P"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().endsWith("/it's a dir")).toBe(true);
  });

  it("fails, without running, in a cwd that does not exist", async () => {
    const r = await host.exec(["touch", `${scratch}/should-not-exist`], { cwd: `${scratch}/missing` });
    expect(r.code).not.toBe(0);
    expect((await host.exec(["test", "-e", `${scratch}/should-not-exist`])).code).not.toBe(0);
  });

  it("returns a non-zero exit as a result with both streams", async () => {
    const r = await host.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n" });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("reports death by a signal as 128 + its number", async () => {
    expect((await host.exec(["sh", "-c", "kill -TERM $$"])).code).toBe(143);
  });

  it("returns 127 for a command that does not exist", async () => {
    const r = await host.exec(["raptor-no-such-command-xyz"]);
    expect(r.code).toBe(127);
  });

  it("feeds stdin, text and binary, and gives EOF when there is none", async () => {
    expect((await host.exec(["cat"], { stdin: "hello\nworld" })).stdout).toBe("hello\nworld");
    const bin = randomBytes(64 * 1024);
    const r = await host.exec(["sha256sum"], { stdin: bin });
    expect(r.stdout.split(" ")[0]).toBe(sha256(bin));
    expect((await host.exec(["cat"])).stdout).toBe("");
  });

  it("kills the command and its children on timeout, reporting 124", async () => {
    const pidfile = `${scratch}/sleeper.pid`;
    const started = Date.now();
    const r = await host.exec(["sh", "-c", `sleep 30 & echo $! > '${pidfile}'; wait`], { timeoutMs: 300 });
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = (await read(pidfile)).trim();
    expect(pid).toMatch(/^\d+$/);
    // Alive = exists and is not a zombie (an orphan may wait a moment for init to reap it).
    const isAlive = ["sh", "-c", 'test -e "/proc/$1" && ! grep -q "^State:[[:space:]]*Z" "/proc/$1/status"', "sh", pid];
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      alive = (await host.exec(isAlive)).code === 0;
      if (alive) await new Promise((res) => setTimeout(res, 50));
    }
    expect(alive).toBe(false);
  });

  it("runs many commands at once", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => host.exec(["echo", String(i)])));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it("uploads a Buffer, a string and a stream, creating parent dirs, with the given mode", async () => {
    const bin = randomBytes(200 * 1024);
    const path = `${scratch}/up/a/b/data.bin`;
    await host.upload(bin, path, 0o640);
    expect((await host.exec(["sha256sum", path])).stdout.split(" ")[0]).toBe(sha256(bin));
    expect((await host.exec(["stat", "-c", "%a", path])).stdout.trim()).toBe("640");

    await host.upload("héllo\n", `${scratch}/up/text.txt`);
    expect(await read(`${scratch}/up/text.txt`)).toBe("héllo\n");
    expect((await host.exec(["stat", "-c", "%a", `${scratch}/up/text.txt`])).stdout.trim()).toBe("644");

    await host.upload(Readable.from([Buffer.from("one "), Buffer.from("two")]), `${scratch}/up/stream.txt`, 0o755);
    expect(await read(`${scratch}/up/stream.txt`)).toBe("one two");
    expect((await host.exec(["stat", "-c", "%a", `${scratch}/up/stream.txt`])).stdout.trim()).toBe("755");
  });

  it("overwrites atomically: readers see the old file or the new, and no temp file is left", async () => {
    const dir = `${scratch}/atomic`;
    const path = `${dir}/file.bin`;
    const v1 = Buffer.alloc(2 * 1024 * 1024, "a");
    const v2 = Buffer.alloc(3 * 1024 * 1024, "b");
    await host.upload(v1, path);
    const seen = new Set<string>();
    let done = false;
    const reader = (async () => {
      while (!done) seen.add((await host.exec(["sha256sum", path])).stdout.split(" ")[0]!);
    })();
    await host.upload(v2, path);
    done = true;
    await reader;
    seen.add((await host.exec(["sha256sum", path])).stdout.split(" ")[0]!);
    expect([...seen].every((h) => h === sha256(v1) || h === sha256(v2))).toBe(true);
    expect(seen.has(sha256(v2))).toBe(true);
    expect((await host.exec(["ls", "-A", dir])).stdout).toBe("file.bin\n");
  });
}

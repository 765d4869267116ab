/**
 * The testbed's daemons as processes: spawned detached from the test's lifetime, waited for on
 * their port, stopped with their children, and reaped when the bed that started them died.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";

export function spawnDaemon(cmd: string, args: string[], stderrPath: string): ChildProcess {
  const fd = openSync(stderrPath, "a");
  try {
    const child = spawn(cmd, args, { stdio: ["ignore", fd, fd] });
    child.on("error", () => {}); // reported by waitForPort as an early exit
    child.unref(); // a forgotten stop() must not keep the test process alive
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Resolves once host:port accepts a connection; rejects if the daemon exits first or after 15s. */
export async function waitForPort(host: string, port: number, child: ChildProcess, evidence: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const exited = () => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`${child.spawnfile} for ${host}:${port} exited: ${evidence()}`);
    if (await canConnect(host, port)) return;
    await new Promise((r) => setTimeout(r, 25)); // poll the port: the daemon gives no other signal
  }
  throw new Error(`${child.spawnfile} for ${host}:${port} not ready after 15s: ${evidence()}`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => (s.destroy(), resolve(false)));
  });
}

export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number, tree = false): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const pids = tree ? [...descendants(child.pid)] : [];
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  for (const pid of pids) tryKill(pid, "SIGKILL");
  // A ref'd timer: the children are unref'd, so without it a script could exit mid-stop.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), graceMs)));
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    if ((await Promise.race([exited, timeout])) === "timeout") {
      child.kill("SIGKILL");
      await exited;
    }
  } finally {
    clearTimeout(timer);
    clearInterval(keepAlive);
  }
}

/** All processes below `root` (sshd's per-connection children and the commands they run). */
function descendants(root: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readFileSafe(`/proc/${entry}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out = new Set<number>();
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) if (!out.has(c)) (out.add(c), walk(c));
  };
  walk(root);
  return out;
}

/**
 * Kills sshd and supervisord processes left by a bed whose owner process is gone (a crashed run),
 * found by the bed directory in their command line, and removes that directory.
 */
export async function reapLeftovers(dirPrefix: string, explicitDir?: string): Promise<void> {
  const stale = new Map<string, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    // sshd rewrites its title into one string ("sshd: /usr/sbin/sshd -D -f <conf> ... [listener]").
    const cmdline = readFileSafe(`/proc/${entry}/cmdline`).split("\0").join(" ");
    if (!/(sshd|supervisord)/.test(cmdline)) continue;
    const bedDir = cmdline.match(/(\/\S+)\/etc\/[^/\s]+\/(?:sshd_config|supervisord\.conf)(?:\s|$)/)?.[1];
    if (!bedDir || !(bedDir.includes(`/${dirPrefix}`) || bedDir === explicitDir)) continue;
    const owner = Number(readFileSafe(join(bedDir, "owner.pid")));
    if (owner && owner !== process.pid && isAlive(owner)) continue;
    if (owner === process.pid && bedDir !== explicitDir) continue;
    stale.set(bedDir, [...(stale.get(bedDir) ?? []), Number(entry)]);
  }
  for (const [bedDir, pids] of stale) {
    for (const pid of pids) {
      for (const d of descendants(pid)) tryKill(d, "SIGKILL");
      tryKill(pid, "SIGKILL");
    }
    await rm(bedDir, { recursive: true, force: true });
  }
  // An explicit dir left by an earlier bed (it has our owner file) is wiped; any other is kept.
  if (explicitDir && existsSync(join(explicitDir, "owner.pid"))) {
    const owner = Number(readFileSafe(join(explicitDir, "owner.pid")));
    if (owner && owner !== process.pid && isAlive(owner)) throw new Error(`testbed dir ${explicitDir} is in use by pid ${owner}`);
    await rm(explicitDir, { recursive: true, force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function readTail(path: string): string {
  return readFileSafe(path).split("\n").slice(-10).join("\n").trim() || "(no output)";
}

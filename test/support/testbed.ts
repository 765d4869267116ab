/**
 * A multi-host test bed on this machine: host N is the loopback address 127.0.0.(N+1), running its
 * own sshd (key auth, its own host key) and its own supervisord (XML-RPC over HTTP). All hosts of
 * one bed share one ssh port and one supervisor port, as the hosts of a squad do.
 *
 * Several beds may run at once (parallel test files, several engineers): ports are reserved with
 * lock files under /tmp/raptor-testbed-ports and checked by binding; a bed whose owner process died
 * is reaped by the next start (processes found by the config path in their command line).
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const SSHD = "/usr/sbin/sshd"; // absolute: sshd re-execs itself and refuses a relative path
const SUPERVISORD = "supervisord";
const DIR_PREFIX = "raptor-testbed-";
const PORT_LOCKS = join(tmpdir(), "raptor-testbed-ports");
const run = promisify(execFile);

export interface TestbedHost {
  /** The host's name as a squad lists it: its loopback address, "127.0.0.2", … */
  name: string;
  sshPort: number;
  /** `http://127.0.0.X:<port>/RPC2` */
  supervisorUrl: string;
  /** Where builds and procs live on this host: `<dir>/hosts/<name>`; supervisord includes `<root>/supervisor/*.conf`. */
  root: string;
}

export interface Testbed {
  hosts: TestbedHost[];
  /** The user to ssh as (the current user; root here). */
  user: string;
  sshKeyPath: string;
  knownHostsPath: string;
  supervisor: { username: string; password: string };
  /** A block of 100 ports reserved for this bed's procs, the default `ports` of squadYaml. */
  appPorts: { from: number; to: number };
  dir: string;
  /** A `squads:` entry (indented two spaces, to follow a `squads:` line) for all hosts of the bed. */
  squadYaml(name: string, opts?: { ports?: string }): string;
  /** The sshd log of one host (LogLevel VERBOSE: one "Accepted publickey" line per connection). */
  sshdLog(host: string): Promise<string>;
  /** Stops the host's sshd and its live sessions, as if the host went down. */
  stopSshd(host: string): Promise<void>;
  startSshd(host: string): Promise<void>;
  /** Stops every supervisord (which stops its programs) and sshd, releases ports, removes `dir`. */
  stop(): Promise<void>;
}

export interface TestbedOptions {
  hosts: number;
  /** Directory to build the bed in (created; wiped by stop). Default: a fresh one under the OS temp dir. */
  dir?: string;
}

interface HostState extends TestbedHost {
  etc: string;
  sshd?: ChildProcess;
  supervisord?: ChildProcess;
}

export async function startTestbed(opts: TestbedOptions): Promise<Testbed> {
  if (opts.hosts < 1 || opts.hosts > 250) throw new Error("startTestbed: hosts must be 1..250");
  await reapLeftovers(opts.dir);
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), DIR_PREFIX)));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "owner.pid"), String(process.pid));
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation dir

  const user = userInfo().username;
  const supervisor = { username: "raptor", password: randomBytes(9).toString("base64url") };
  const sshKeyPath = join(dir, "client", "id_ed25519");
  const knownHostsPath = join(dir, "client", "known_hosts");
  await mkdir(join(dir, "client"), { recursive: true });

  const hosts: HostState[] = [];
  for (let i = 0; i < opts.hosts; i++) {
    const name = `127.0.0.${i + 2}`;
    const root = join(dir, "hosts", name);
    const etc = join(dir, "etc", name);
    await mkdir(join(root, "supervisor"), { recursive: true });
    await mkdir(join(etc, "childlogs"), { recursive: true });
    hosts.push({ name, root, etc, sshPort: 0, supervisorUrl: "" });
  }
  await Promise.all([keygen(sshKeyPath), ...hosts.map((h) => keygen(join(h.etc, "ssh_host_ed25519_key")))]);
  await writeFile(join(dir, "client", "authorized_keys"), await readFile(`${sshKeyPath}.pub`));

  const held: string[] = [];
  const appBase = await reservePort(41000, 100, [], held);
  const appPorts = { from: appBase, to: appBase + 99 };
  const addresses = hosts.map((h) => h.name);
  let sshPort = 22022;
  let supPort = 29001;

  const stopAll = async () => {
    await Promise.all(hosts.map((h) => stopChild(h.supervisord, "SIGTERM", 30_000)));
    await Promise.all(hosts.map((h) => stopChild(h.sshd, "SIGTERM", 5_000, true)));
  };

  try {
    // Start everything; if a port was taken between our check and the daemon's bind, try the next.
    for (let attempt = 1; ; attempt++) {
      sshPort = await reservePort(sshPort, 1, addresses, held);
      supPort = await reservePort(supPort, 1, addresses, held);
      for (const h of hosts) {
        h.sshPort = sshPort;
        h.supervisorUrl = `http://${h.name}:${supPort}/RPC2`;
        await writeFile(join(h.etc, "sshd_config"), sshdConfig(h, dir));
        await writeFile(join(h.etc, "supervisord.conf"), supervisordConfig(h, supPort, supervisor));
      }
      try {
        await Promise.all(hosts.flatMap((h) => [startSshdOn(h), startSupervisordOn(h, supPort)]));
        break;
      } catch (e) {
        await stopAll();
        if (attempt >= 5) throw e;
        sshPort++;
        supPort++;
      }
    }
    const lines = await Promise.all(
      hosts.map(async (h) => {
        const [type, key] = (await readFile(join(h.etc, "ssh_host_ed25519_key.pub"), "utf8")).split(" ");
        return `[${h.name}]:${sshPort} ${type} ${key}\n`;
      }),
    );
    await writeFile(knownHostsPath, lines.join(""));
  } catch (e) {
    await stopAll();
    releasePorts(held);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const byName = (name: string): HostState => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`testbed has no host ${name}`);
    return h;
  };

  return {
    hosts: hosts.map(({ name, sshPort, supervisorUrl, root }) => ({ name, sshPort, supervisorUrl, root })),
    user,
    sshKeyPath,
    knownHostsPath,
    supervisor,
    appPorts,
    dir,
    squadYaml(name, o = {}) {
      const q = JSON.stringify;
      return [
        `  ${name}:`,
        `    hosts: [${hosts.map((h) => q(h.name)).join(", ")}]`,
        `    transport: ssh`,
        `    ssh: { user: ${q(user)}, port: ${sshPort}, key: ${q(sshKeyPath)}, known_hosts: ${q(knownHostsPath)} }`,
        `    supervisor: { url: ${q(`http://{host}:${supPort}/RPC2`)}, username: ${q(supervisor.username)}, password: ${q(supervisor.password)} }`,
        `    ports: ${o.ports ?? `${appPorts.from}-${appPorts.to}`}`,
        `    root: ${q(join(dir, "hosts", "{host}"))}`,
        ``,
      ].join("\n");
    },
    async sshdLog(host) {
      return readFile(join(byName(host).etc, "sshd.log"), "utf8").catch(() => "");
    },
    async stopSshd(host) {
      const h = byName(host);
      await stopChild(h.sshd, "SIGTERM", 5_000, true);
      h.sshd = undefined;
    },
    async startSshd(host) {
      const h = byName(host);
      if (h.sshd && h.sshd.exitCode === null && h.sshd.signalCode === null) return;
      await startSshdOn(h);
    },
    async stop() {
      await stopAll();
      releasePorts(held);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function sshdConfig(h: HostState, dir: string): string {
  return [
    `ListenAddress ${h.name}`,
    `Port ${h.sshPort}`,
    `HostKey ${join(h.etc, "ssh_host_ed25519_key")}`,
    `AuthorizedKeysFile ${join(dir, "client", "authorized_keys")}`,
    `PidFile ${join(h.etc, "sshd.pid")}`,
    `PermitRootLogin prohibit-password`,
    `PubkeyAuthentication yes`,
    `PasswordAuthentication no`,
    `KbdInteractiveAuthentication no`,
    `UsePAM no`,
    `StrictModes no`,
    `UseDNS no`,
    `PrintMotd no`,
    `LogLevel VERBOSE`,
    // A pooled connection runs several commands at once; real hosts default to 10.
    `MaxSessions 20`,
    `MaxStartups 100`,
    `Subsystem sftp internal-sftp`,
    // bash run by sshd sources ~/.bashrc only at SHLVL < 2; this machine's root .bashrc runs
    // `pyenv init` (~150 ms a command). Real deploy users have light rc files; keep the bed fast.
    `SetEnv SHLVL=1`,
    ``,
  ].join("\n");
}

function supervisordConfig(h: HostState, port: number, auth: { username: string; password: string }): string {
  const asRoot = process.getuid?.() === 0;
  return [
    `[inet_http_server]`,
    `port=${h.name}:${port}`,
    `username=${auth.username}`,
    `password=${auth.password}`,
    ``,
    `[supervisord]`,
    `logfile=${join(h.etc, "supervisord.log")}`,
    `pidfile=${join(h.etc, "supervisord.pid")}`,
    `childlogdir=${join(h.etc, "childlogs")}`,
    `identifier=${h.name}`,
    `nodaemon=true`,
    ...(asRoot ? [`user=root`] : []),
    ``,
    `[rpcinterface:supervisor]`,
    `supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface`,
    ``,
    `[supervisorctl]`,
    `serverurl=http://${h.name}:${port}`,
    `username=${auth.username}`,
    `password=${auth.password}`,
    ``,
    `[include]`,
    `files = ${join(h.root, "supervisor", "*.conf")}`,
    ``,
  ].join("\n");
}

async function keygen(path: string): Promise<void> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "raptor-testbed", "-f", path]);
}

async function startSshdOn(h: HostState): Promise<void> {
  const conf = join(h.etc, "sshd_config");
  h.sshd = spawnDaemon(SSHD, ["-D", "-f", conf, "-E", join(h.etc, "sshd.log")], join(h.etc, "sshd.stderr"));
  await waitForPort(h.name, h.sshPort, h.sshd, () => readTail(join(h.etc, "sshd.log")));
}

async function startSupervisordOn(h: HostState, port: number): Promise<void> {
  const conf = join(h.etc, "supervisord.conf");
  h.supervisord = spawnDaemon(SUPERVISORD, ["-n", "-c", conf], join(h.etc, "supervisord.stderr"));
  await waitForPort(h.name, port, h.supervisord, () => readTail(join(h.etc, "supervisord.stderr")));
}

function spawnDaemon(cmd: string, args: string[], stderrPath: string): ChildProcess {
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
async function waitForPort(host: string, port: number, child: ChildProcess, evidence: () => string): Promise<void> {
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

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Finds the first `start + k*step` free on every address and not reserved by a live bed, and takes
 * its lock file (owner pid inside). With no addresses, only the lock counts (a block for procs).
 */
async function reservePort(start: number, step: number, addresses: string[], held: string[]): Promise<number> {
  await mkdir(PORT_LOCKS, { recursive: true });
  for (let port = start; port < 65_000; port += step) {
    const lock = join(PORT_LOCKS, String(port));
    if (!takeLock(lock)) continue;
    const free = (await Promise.all(addresses.map((a) => canBind(a, port)))).every(Boolean);
    if (free) {
      held.push(lock);
      return port;
    }
    await rm(lock, { force: true });
  }
  throw new Error(`no free port from ${start}`);
}

function takeLock(path: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return false;
      const owner = Number(readFileSafe(path));
      // An empty file is a lock being written this instant: held.
      if (!owner || isAlive(owner)) return false;
      rmSync(path, { force: true }); // its owner died without releasing it
    }
  }
  return false;
}

function releasePorts(held: string[]): void {
  for (const lock of held.splice(0)) {
    rmSync(lock, { force: true });
  }
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number, tree = false): Promise<void> {
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
async function reapLeftovers(explicitDir?: string): Promise<void> {
  const stale = new Map<string, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    // sshd rewrites its title into one string ("sshd: /usr/sbin/sshd -D -f <conf> ... [listener]").
    const cmdline = readFileSafe(`/proc/${entry}/cmdline`).split("\0").join(" ");
    if (!/(sshd|supervisord)/.test(cmdline)) continue;
    const bedDir = cmdline.match(/(\/\S+)\/etc\/[^/\s]+\/(?:sshd_config|supervisord\.conf)(?:\s|$)/)?.[1];
    if (!bedDir || !(bedDir.includes(`/${DIR_PREFIX}`) || bedDir === explicitDir)) continue;
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

function isAlive(pid: number): boolean {
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

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function readTail(path: string): string {
  return readFileSafe(path).split("\n").slice(-10).join("\n").trim() || "(no output)";
}

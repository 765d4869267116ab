/**
 * A multi-host test bed on this machine: host N is the loopback address 127.0.0.(N+1), running its
 * own sshd (key auth, its own host key) and its own supervisord (XML-RPC over HTTP). All hosts of
 * one bed share one ssh port and one supervisor port, as the hosts of a squad do.
 *
 * Several beds may run at once (parallel test files, several engineers): ports are reserved with
 * lock files under /tmp/raptor-testbed-ports and checked by binding; a bed whose owner process died
 * is reaped by the next start (processes found by the config path in their command line).
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { releasePorts, reservePort } from "./testbed/ports.ts";
import { reapLeftovers, stopChild } from "./testbed/processes.ts";
import { keygen, knownHostsLine, sshdConfig, startSshdOn, type SshdHost } from "./testbed/sshd.ts";
import { startSupervisordOn, supervisordConfig, type SupervisordHost } from "./testbed/supervisord.ts";

const DIR_PREFIX = "raptor-testbed-";

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
  squadYaml(name: string, opts?: { ports?: string; hosts?: string[] }): string;
  /** The sshd log of one host (LogLevel VERBOSE: one "Accepted publickey" line per connection). */
  sshdLog(host: string): Promise<string>;
  /** Stops the host's sshd and its live sessions, as if the host went down. */
  stopSshd(host: string): Promise<void>;
  startSshd(host: string): Promise<void>;
  /** Stops the host's supervisord (and with it every program it runs), as if the host went down. */
  stopSupervisord(host: string): Promise<void>;
  /** Starts it again; it reads `<root>/supervisor/*.conf` and starts nothing (Raptor's programs have autostart=false). */
  startSupervisord(host: string): Promise<void>;
  /**
   * SIGSTOPs the host's supervisord: its port still accepts connections but no call is answered
   * (a hung host), so a caller is held inside whatever it was doing there. Its programs run on.
   */
  pauseSupervisord(host: string): void;
  /** SIGCONTs it: the held calls are answered. */
  resumeSupervisord(host: string): void;
  /** Stops every supervisord (which stops its programs) and sshd, releases ports, removes `dir`. */
  stop(): Promise<void>;
}

export interface TestbedOptions {
  hosts: number;
  /** Directory to build the bed in (created; wiped by stop). Default: a fresh one under the OS temp dir. */
  dir?: string;
  /**
   * Hosts set up the way some real ones are, by index: `sftp: false` (sshd without the sftp
   * subsystem), `include: false` (a supervisord that does not include `<root>/supervisor/*.conf`).
   */
  quirks?: Record<number, { sftp?: boolean; include?: boolean }>;
}

interface HostState extends TestbedHost, SshdHost, SupervisordHost {}

export async function startTestbed(opts: TestbedOptions): Promise<Testbed> {
  if (opts.hosts < 1 || opts.hosts > 250) throw new Error("startTestbed: hosts must be 1..250");
  await reapLeftovers(DIR_PREFIX, opts.dir);
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), DIR_PREFIX)));
  await mkdir(dir, { recursive: true });
  // Procs run as their squad's unprivileged user, who must pass through to its proc dir (as
  // through a real host's /apps); the bed's keys and configs stay unreadable (their own modes).
  await chmod(dir, 0o711);
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
        const quirks = opts.quirks?.[hosts.indexOf(h)] ?? {};
        await writeFile(join(h.etc, "sshd_config"), sshdConfig(h, dir, quirks));
        await writeFile(join(h.etc, "supervisord.conf"), supervisordConfig(h, supPort, supervisor, quirks));
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
    await writeFile(knownHostsPath, (await Promise.all(hosts.map(knownHostsLine))).join(""));
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
        `    hosts: [${(o.hosts ?? hosts.map((h) => h.name)).map((n) => q(n)).join(", ")}]`,
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
    async stopSupervisord(host) {
      const h = byName(host);
      await stopChild(h.supervisord, "SIGTERM", 30_000);
      h.supervisord = undefined;
    },
    async startSupervisord(host) {
      const h = byName(host);
      if (h.supervisord && h.supervisord.exitCode === null && h.supervisord.signalCode === null) return;
      await startSupervisordOn(h, supPort);
    },
    pauseSupervisord(host) {
      const pid = byName(host).supervisord?.pid;
      if (pid === undefined) throw new Error(`testbed host ${host} has no supervisord running`);
      process.kill(pid, "SIGSTOP");
    },
    resumeSupervisord(host) {
      const pid = byName(host).supervisord?.pid;
      if (pid !== undefined) process.kill(pid, "SIGCONT");
    },
    async stop() {
      // A paused supervisord would not act on the SIGTERM that stops it.
      for (const h of hosts) if (h.supervisord?.pid !== undefined) process.kill(h.supervisord.pid, "SIGCONT");
      await stopAll();
      releasePorts(held);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import type { Host } from "../runners/host.ts";
import { shellJoin } from "../runners/shell.ts";
import { BalancerError, type Balancer, type ChangeOptions, type Node } from "./balancer.ts";
import {
  HaproxyInputError,
  isRuntimeAddable,
  parseBackendFile,
  parseServersState,
  parseStatSessions,
  poolFile,
  renderBackend,
  runtimeCommand,
  runtimeFailure,
  serverName,
  socketArgv,
  splitBatchAnswer,
} from "./haproxy-config.ts";
import { plural } from "../lib/plural.ts";

/** The playbook's `kind: haproxy` keys, resolved, plus the Hosts to reach each balancer host. */
export interface HaproxyOptions {
  name: string;
  /** One Host per balancer host; every host gets every change. */
  hosts: readonly Host[];
  /** The runtime API socket (stats socket, `level admin`) on each host. */
  socket: string;
  /** Raptor owns `<includeDir>/<pool>.cfg`. */
  includeDir: string;
  /** Default `[haproxy, -c, -f, /etc/haproxy/haproxy.cfg, -f, <includeDir>]`. */
  validate?: readonly string[];
  /** Default `[systemctl, reload, haproxy]`; run only when a pool's backend does not exist yet. */
  reload?: readonly string[];
  /** Longest wait for a removed server's sessions to end before it is cut (ms). Default 30 000. */
  drainMs?: number;
  /** How long a reload may take to show the new backend on the runtime API (ms). Default 15 000. */
  reloadTimeoutMs?: number;
  /** Poll interval while draining or waiting for a reload (ms). Default 100. */
  pollMs?: number;
}

/** A failure on one balancer host, with HAProxy's (or the tool's) own words in `output`. */
class HostFailure extends Error {
  constructor(
    readonly host: string,
    message: string,
    readonly output?: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After the drain time, how long a request still running on a server in maint may go on before it is cut. */
export const CUT_GRACE_MS = 5_000;

/**
 * HAProxy through its runtime API: a pool whose backend exists changes with no reload (`add server`
 * + `state ready`; removal `state drain`, wait for sessions to end, `state maint`, `del server`),
 * and its pool file is rewritten to the same servers first (validated, restored on failure) so a
 * reload or restart keeps them. A pool with no backend yet, or a node given by host name (HAProxy
 * does not resolve names of runtime-added servers), goes through the file and one `reload`.
 * Several hosts: every host takes the change or every host is put back to its previous servers.
 * Errors are BalancerError naming the host and carrying HAProxy's own message.
 */
export class HaproxyBalancer implements Balancer {
  readonly name: string;
  private readonly validateArgv: readonly string[];
  private readonly reloadArgv: readonly string[];

  constructor(private readonly opts: HaproxyOptions) {
    this.name = opts.name;
    if (opts.hosts.length === 0) throw new BalancerError(opts.name, "no hosts are configured");
    this.validateArgv = opts.validate ?? ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg", "-f", opts.includeDir];
    this.reloadArgv = opts.reload ?? ["systemctl", "reload", "haproxy"];
    this.guard(() => socketArgv(opts.socket.replaceAll("{host}", "h")));
  }

  async getNodes(pool: string): Promise<Node[]> {
    return this.guard(async () => (await this.servers(this.opts.hosts[0]!, pool)) ?? []);
  }

  async addNodes(pool: string, nodes: readonly Node[], opts: ChangeOptions = {}): Promise<Node[]> {
    this.guard(() => nodes.forEach(serverName));
    await this.everyHost(pool, (current) => [...new Set([...current, ...nodes])], opts);
    return this.getNodes(pool);
  }

  /** Drains each node first: waits up to `opts.drainMs` (default HaproxyOptions.drainMs) for its sessions to end. */
  async deleteNodes(pool: string, nodes: readonly Node[], opts: ChangeOptions = {}): Promise<Node[]> {
    const gone = new Set(nodes);
    await this.everyHost(pool, (current) => current.filter((n) => !gone.has(n)), opts);
    return this.getNodes(pool);
  }

  async validate(): Promise<void> {
    await this.guard(() => Promise.all(this.opts.hosts.map((h) => this.run(h, this.at(h, this.validateArgv), "validate"))));
  }

  /** Moves every host's pool to `target(current)`; on any failure puts the others back, then throws. */
  private async everyHost(pool: string, target: (current: Node[]) => Node[], opts: ChangeOptions): Promise<void> {
    await this.guard(async () => {
      const hosts = this.opts.hosts;
      const runtime = await Promise.all(hosts.map((h) => this.atHost(h, () => this.servers(h, pool))));
      const before = runtime.map((r) => r ?? []);
      const results = await Promise.allSettled(hosts.map((h, i) => this.atHost(h, () => this.converge(h, pool, target(before[i]!), { drainMs: opts.drainMs, known: { servers: runtime[i] } }))));
      const failed = results.findIndex((r) => r.status === "rejected");
      if (failed < 0) {
        for (const [i, r] of results.entries()) await report(opts, `${hosts[i]!.name}: ${(r as PromiseFulfilledResult<string>).value}`);
        return;
      }
      // Put back every host that took the change, so no host is left half-applied.
      const notes: string[] = [];
      for (const [i, r] of results.entries()) {
        if (r.status !== "fulfilled") continue;
        try {
          await this.converge(hosts[i]!, pool, before[i]!, { drainMs: 0 });
          notes.push(`${hosts[i]!.name} was put back to the previous pool`);
        } catch (e) {
          notes.push(`could not put ${hosts[i]!.name} back: ${(e as Error).message}`);
        }
      }
      const err = (results[failed] as PromiseRejectedResult).reason as HostFailure;
      throw new BalancerError(this.name, [err.message, ...notes].join("; "), { host: err.host, output: err.output });
    });
  }

  /**
   * `{host}` in a setting becomes the balancer host's name (as for the file backends and a squad's
   * `root`), so several HAProxy instances on one machine keep apart sockets and files.
   */
  private at<T extends string | readonly string[]>(host: Host, value: T): T {
    const one = (v: string) => v.replaceAll("{host}", host.name);
    return (typeof value === "string" ? one(value) : value.map(one)) as T;
  }

  /** Runs `fn` for `host`; whatever it throws becomes a HostFailure naming the host. */
  private async atHost<T>(host: Host, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HostFailure) throw e;
      throw new HostFailure(host.name, e instanceof BalancerError ? e.message.replace(/^balancer \S+( on \S+)?: /, "") : (e as Error).message, e instanceof BalancerError ? e.output : undefined);
    }
  }

  /** One host: pool file first (validated), then the runtime API, or a reload for a new backend. */
  private async converge(host: Host, pool: string, target: Node[], how: { drainMs?: number; known?: { servers: Node[] | undefined } }): Promise<string> {
    const drainMs = how.drainMs ?? this.opts.drainMs ?? 30_000;
    const path = poolFile(this.at(host, this.opts.includeDir), pool);
    const runtime = how.known ? how.known.servers : await this.servers(host, pool);
    const previousFile = await this.readFile(host, path);
    const current = runtime ?? [];
    // Nothing to remove from a backend that does not exist: create nothing.
    if (runtime === undefined && target.length === 0) return "no such backend, nothing to remove";
    const add = target.filter((n) => !current.includes(n));
    const remove = current.filter((n) => !target.includes(n));
    if (runtime !== undefined && add.length === 0 && remove.length === 0 && previousFile === renderBackend(pool, target)) return "already so";

    await host.upload(renderBackend(pool, target), path);
    try {
      await this.run(host, this.at(host, this.validateArgv), "validate");
    } catch (err) {
      await this.restoreFile(host, path, previousFile);
      throw err;
    }
    if (runtime === undefined || !add.every(isRuntimeAddable)) {
      await this.reloadAndWait(host, pool, target, path, previousFile);
      return `${this.validateArgv[0]} ok, reloaded (${runtime === undefined ? "new backend" : "a node given by name"}; ${plural(target.length, "server")})`;
    }
    let added: Node[] = [];
    try {
      // One round trip: `add server` then `state ready` (a dynamic server starts in maintenance).
      const answers = await this.batch(host, add.flatMap((n) => [runtimeCommand.addServer(pool, n), runtimeCommand.setState(pool, n, "ready")]));
      added = add.filter((_, i) => answers[2 * i] === undefined);
      const failed = answers.findIndex((a) => a !== undefined);
      if (failed >= 0) throw new Error(`\`${add.flatMap((n) => [runtimeCommand.addServer(pool, n), runtimeCommand.setState(pool, n, "ready")])[failed]}\` failed: ${answers[failed]}`);
      await this.drainAndDelete(host, pool, remove, drainMs);
      return `${this.validateArgv[0]} ok, runtime API +${add.length} −${remove.length}, no reload (${plural(target.length, "server")})`;
    } catch (err) {
      await this.restoreFile(host, path, previousFile);
      await this.batch(host, remove.map((n) => runtimeCommand.setState(pool, n, "ready"))).catch(() => {});
      await this.cutAll(host, pool, added).catch(() => {});
      throw err;
    }
  }

  /** Drain all, wait until their sessions and queues are empty (or `drainMs` passed), then cut them. */
  private async drainAndDelete(host: Host, pool: string, nodes: Node[], drainMs: number): Promise<void> {
    if (nodes.length === 0) return;
    const drain = nodes.map((n) => runtimeCommand.setState(pool, n, "drain"));
    const refused = (await this.batch(host, drain)).findIndex((a) => a !== undefined);
    if (refused >= 0) throw new Error(`\`${drain[refused]}\` failed`);
    const names = new Set(nodes.map(serverName));
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline) {
      const sessions = parseStatSessions(await this.api(host, runtimeCommand.showStat(pool)));
      if ([...names].every((s) => (sessions.get(s) ?? 0) === 0)) break;
      await sleep(this.opts.pollMs ?? 100);
    }
    await this.cutAll(host, pool, nodes);
  }

  /**
   * maint (no new sessions), then `del server`, which HAProxy refuses while sessions remain. A
   * request still running gets CUT_GRACE_MS more to finish (so a `drain` of 0 does not cut
   * requests in flight); after that its sessions are shut down and the delete goes through.
   */
  private async cutAll(host: Host, pool: string, nodes: Node[]): Promise<void> {
    let left = nodes;
    const graceEnds = Date.now() + CUT_GRACE_MS;
    let force = false;
    for (;;) {
      const steps = (n: Node) => [runtimeCommand.setState(pool, n, "maint"), ...(force ? [runtimeCommand.shutdownSessions(pool, n)] : []), runtimeCommand.delServer(pool, n)];
      const per = force ? 3 : 2;
      const answers = await this.batch(host, left.flatMap(steps));
      const refused = left.map((_, i) => answers[per * i + per - 1]);
      // "No such server" on a retry: an earlier attempt's delete went through.
      left = left.filter((_, i) => refused[i] !== undefined && !/^No such server/.test(refused[i]!));
      if (left.length === 0) return;
      if (force && Date.now() > graceEnds + 5_000) throw new Error(`\`${runtimeCommand.delServer(pool, left[0]!)}\` failed: ${refused.find((f) => f)}`);
      if (Date.now() > graceEnds) force = true;
      await sleep(this.opts.pollMs ?? 100);
    }
  }

  private async reloadAndWait(host: Host, pool: string, target: Node[], path: string, previousFile: string | undefined): Promise<void> {
    try {
      await this.run(host, this.at(host, this.reloadArgv), "reload");
    } catch (err) {
      await this.restoreFile(host, path, previousFile);
      throw err;
    }
    // The reload is asynchronous: wait until the runtime API shows the pool as written.
    const want = [...new Set(target)].sort().join(" ");
    const deadline = Date.now() + (this.opts.reloadTimeoutMs ?? 15_000);
    for (;;) {
      const now = await this.servers(host, pool).catch(() => undefined);
      if (now && now.join(" ") === want) return;
      if (Date.now() > deadline) throw new Error(`after reload, the runtime API on ${host.name} does not show backend ${pool} with ${plural(target.length, "server")}`);
      await sleep(this.opts.pollMs ?? 100);
    }
  }

  /** The backend's servers on one host, sorted; undefined when the backend does not exist. */
  private async servers(host: Host, pool: string): Promise<Node[] | undefined> {
    const state = parseServersState(await this.api(host, runtimeCommand.showServersState(pool), true));
    return state?.map((s) => s.name).sort();
  }

  /**
   * Sends one-line-answer commands in one round trip (`a; b; c`); per command, undefined when it
   * succeeded or HAProxy's message. HAProxy runs every command even after one fails.
   */
  private async batch(host: Host, commands: string[]): Promise<(string | undefined)[]> {
    if (commands.length === 0) return [];
    const r = await host.exec(socketArgv(this.at(host, this.opts.socket)), { stdin: `${commands.join("; ")}\n`, timeoutMs: 15_000 });
    if (r.code !== 0) throw new HostFailure(host.name, `the runtime API socket ${this.at(host, this.opts.socket)} does not answer: ${tail(r.stderr || r.stdout)}`, tail(r.stderr || r.stdout));
    return splitBatchAnswer(r.stdout, commands.length).map((a, i) => runtimeFailure(commands[i]!, a));
  }

  /** Sends one runtime API command; throws with HAProxy's answer when it is not a success. */
  private async api(host: Host, command: string, missingBackendOk = false): Promise<string> {
    const r = await host.exec(socketArgv(this.at(host, this.opts.socket)), { stdin: `${command}\n`, timeoutMs: 15_000 });
    if (r.code !== 0) throw new HostFailure(host.name, `the runtime API socket ${this.at(host, this.opts.socket)} does not answer: ${tail(r.stderr || r.stdout)}`, tail(r.stderr || r.stdout));
    const failure = runtimeFailure(command, r.stdout);
    if (failure && !(missingBackendOk && failure.startsWith("Can't find backend"))) throw new HostFailure(host.name, `\`${command}\` failed: ${failure}`, failure);
    return r.stdout;
  }

  private async run(host: Host, argv: readonly string[], what: string): Promise<void> {
    const r = await host.exec(argv, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new HostFailure(host.name, `${what} failed (\`${shellJoin(argv)}\`, exit ${r.code}): ${tail(r.stderr || r.stdout)}`, tail(r.stderr || r.stdout));
  }

  private async readFile(host: Host, path: string): Promise<string | undefined> {
    const r = await host.exec(["cat", "--", path]);
    return r.code === 0 ? r.stdout : undefined;
  }

  private async restoreFile(host: Host, path: string, previous: string | undefined): Promise<void> {
    if (previous === undefined) await host.exec(["rm", "-f", "--", path]);
    else await host.upload(previous, path);
  }

  /** Runs `fn`, turning any failure into a BalancerError with this balancer's name. */
  private guard<T>(fn: () => T): T {
    const wrap = (err: unknown): never => {
      if (err instanceof BalancerError) throw err;
      if (err instanceof HostFailure) throw new BalancerError(this.name, err.message, { host: err.host, output: err.output });
      throw new BalancerError(this.name, err instanceof HaproxyInputError ? err.message : (err as Error).message);
    };
    try {
      const out = fn();
      return (out instanceof Promise ? out.catch(wrap) : out) as T;
    } catch (err) {
      return wrap(err);
    }
  }
}

/** The nodes in a pool file's text (for tests and `status`). */
export { parseBackendFile };

async function report(opts: ChangeOptions, message: string): Promise<void> {
  try {
    await opts.progress?.(message);
  } catch {
    // progress is for people; a failed report does not fail the change
  }
}

function tail(text: string, lines = 8): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

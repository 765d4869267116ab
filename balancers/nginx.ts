import { posix } from "node:path";
import type { Host } from "../runners/host.ts";
import { shellJoin } from "../runners/shell.ts";
import type { Node } from "./balancer.ts";
import { ApplyRefusedError, FileBalancer, HostChangeError, tail, type ApplyHow, type FileBackendOptions } from "./file-backend.ts";
import { parseNginxPool, renderNginxPool } from "./nginx-config.ts";
import { nginxConfigArgv, nginxControl, parseChildren, refusalIn, reloadTook, type NginxChild, type NginxControl } from "./nginx-reload.ts";
import { checkPool } from "./nodes.ts";
import { plural } from "../lib/plural.ts";

export interface NginxOptions extends FileBackendOptions {
  /** The directory of Raptor's pool files (`<include_dir>/<pool>.conf`). */
  includeDir: string;
  /** argv of the reload (default in the playbook schema: [nginx, -s, reload]). */
  reload: readonly string[];
  /** Longest wait for the master to start new workers after the reload (ms). Default 10 000. */
  confirmMs?: number;
  /** Longest wait for the old workers to exit after a removal, when the change gives no drainMs (ms). Default 30 000. */
  drainMs?: number;
}

/** What was true just before a reload, to tell the new worker generation from the old. */
interface Generation {
  master: number;
  /** The master's children before the reload: old workers (and cache processes). */
  before: Set<number>;
  control: NginxControl;
  /** The error log's size before the reload (bytes), when it could be read. */
  logSize: number | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * nginx: one `upstream` file per pool on every balancer host, `validate` (nginx -t) before every
 * `reload`. `nginx -s reload` returns once it has signalled the master, so the apply confirms the
 * reload took: it records the master's children before (master from its pid file, see
 * nginx-reload.ts), and after the reload waits until a new worker exists and every old worker has
 * stopped accepting (reloadTook; default up to 10 s). A master that refused the config keeps its
 * old workers: that is a BalancerError naming the host and the `[emerg]` line of nginx's error
 * log, and the previous files are put back (no second reload: the old config still runs).
 *
 * Draining: open-source nginx has no per-server drain state; a reload is itself the drain — the
 * old workers stop accepting, finish their in-flight requests and exit, while new workers route
 * with the new upstream. A change that removes nodes returns only when every worker from before
 * the reload has exited (so nothing routes to the removed nodes any more), or when the change's
 * `drainMs` has passed (default 30 s when the caller gives none): the thread then says how many
 * old workers were still busy. Adding nodes waits only for the reload to take (the master signals
 * the old workers ~100 ms after starting the new ones), not for old workers to exit. A `reload` that is not nginx's own (`systemctl
 * reload nginx`) is confirmed the same way when `validate` runs nginx (its argv names the
 * config); with neither, the thread says "reloaded (not confirmed …)" and only the engine's
 * drain covers the reload.
 */
export class NginxBalancer extends FileBalancer {
  private readonly includeDir: string;
  private readonly reloadArgv: readonly string[];
  private readonly configArgv: readonly string[] | undefined;
  private readonly confirmMs: number;
  private readonly drainMs: number;
  /** Per balancer host: its instance's pid file and error log, or why they cannot be known. */
  private readonly controls = new Map<string, Promise<NginxControl | string>>();

  constructor(opts: NginxOptions) {
    super(opts);
    this.includeDir = opts.includeDir;
    this.reloadArgv = opts.reload;
    this.configArgv = nginxConfigArgv(opts.reload, opts.validate);
    this.confirmMs = opts.confirmMs ?? 10_000;
    this.drainMs = opts.drainMs ?? 30_000;
  }

  protected poolPath(pool: string, host: Host): string {
    checkPool(this.name, pool);
    return posix.join(this.expand(host, this.includeDir), `${pool}.conf`);
  }

  protected render(pool: string, nodes: readonly Node[]): string {
    return renderNginxPool(this.name, pool, nodes);
  }

  protected parse(text: string): Node[] {
    return parseNginxPool(text);
  }

  protected async apply(host: Host, how: ApplyHow): Promise<string> {
    const gen = await this.generation(host);
    await this.run(host, this.expandAll(host, this.reloadArgv));
    if (typeof gen === "string") return `reloaded (not confirmed: ${gen})`;
    await this.newWorkers(host, gen);
    if (!how.removes) return "reloaded";
    const drainMs = how.drainMs ?? this.drainMs;
    const t0 = Date.now();
    const busy = await this.oldWorkersExit(host, gen, drainMs);
    const took = `${((Date.now() - t0) / 1000).toFixed(1)}s`;
    return busy === 0 ? `reloaded, old workers gone in ${took}` : `reloaded; ${plural(busy, "old worker")} still finishing requests after the drain (${drainMs / 1000}s): not waited for longer`;
  }

  /** The master and its children now; a string says why the reload cannot be confirmed. */
  private async generation(host: Host): Promise<Generation | string> {
    const control = await this.control(host);
    if (typeof control === "string") return control;
    const pid = await host.exec(["cat", "--", control.pidFile], { timeoutMs: this.timeoutMs });
    const master = Number(pid.stdout.trim());
    // No master: nginx is not running; the reload itself fails and says so.
    if (pid.code !== 0 || !Number.isInteger(master) || master <= 0) return `cannot read the master's pid from ${control.pidFile}`;
    // A host whose ps lacks --ppid (BusyBox) cannot confirm: the reload still runs, as before.
    const listed = await this.children(host, master).catch((e: Error) => e);
    if (listed instanceof Error) return listed.message;
    const before = new Set(listed.map((c) => c.pid));
    let logSize: number | undefined;
    if (control.errorLog) {
      const st = await host.exec(["stat", "-c", "%s", "--", control.errorLog], { timeoutMs: this.timeoutMs });
      if (st.code === 0) logSize = Number(st.stdout.trim());
    }
    return { master, before, control, logSize };
  }

  /** The pid file and error log of the instance on `host`, read once per balancer (nginx -T, nginx -V). */
  private control(host: Host): Promise<NginxControl | string> {
    let c = this.controls.get(host.name);
    if (!c) {
      c = this.readControl(host);
      this.controls.set(host.name, c);
    }
    return c;
  }

  private async readControl(host: Host): Promise<NginxControl | string> {
    if (!this.configArgv) return "neither reload nor validate runs nginx, so its master is unknown";
    const argv = this.expandAll(host, this.configArgv);
    const dump = await host.exec([...argv, "-T", "-q"], { timeoutMs: this.timeoutMs });
    if (dump.code !== 0) return `\`${shellJoin([...argv, "-T"])}\` failed: ${tail(dump.stderr) || `exit ${dump.code}`}`;
    const version = await host.exec([...argv, "-V"], { timeoutMs: this.timeoutMs });
    try {
      return nginxControl(argv, dump.stdout, `${version.stderr}\n${version.stdout}`);
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** The master's child processes (workers, cache manager/loader) with their titles. */
  private async children(host: Host, master: number): Promise<NginxChild[]> {
    const r = await host.exec(["ps", "-o", "pid=,args=", "--ppid", String(master)], { timeoutMs: this.timeoutMs });
    // ps exits 1 when nothing matches: no children.
    if (r.code !== 0 && r.code !== 1) throw new HostChangeError(host.name, `\`ps --ppid ${master}\` failed: ${tail(r.stderr) || `exit ${r.code}`}`);
    return parseChildren(r.stdout);
  }

  /**
   * Waits until the reload took (reloadTook: new workers up, old ones no longer accepting); a
   * refusal (the master kept its old workers) throws ApplyRefusedError.
   */
  private async newWorkers(host: Host, gen: Generation): Promise<void> {
    const t0 = Date.now();
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const now = await this.children(host, gen.master);
      if (reloadTook(gen.before, now)) return;
      const waited = Date.now() - t0;
      const started = now.some((c) => !gen.before.has(c.pid));
      // A refusal is logged at once; give a reload that is merely slow the whole wait.
      const refusal = !started && waited > 300 ? await this.refusal(host, gen) : undefined;
      if (refusal || waited > this.confirmMs) {
        const why = refusal ?? `no new worker generation after ${this.confirmMs / 1000}s${gen.control.errorLog ? ` (see ${gen.control.errorLog})` : ""}`;
        throw new ApplyRefusedError(host.name, `nginx did not take the new configuration: its master (pid ${gen.master}) kept the old workers: ${why}`, refusal);
      }
      await sleep(delay);
    }
  }

  /** The `[emerg]` line the error log gained since the reload, if any and if readable. */
  private async refusal(host: Host, gen: Generation): Promise<string | undefined> {
    if (!gen.control.errorLog || gen.logSize === undefined) return undefined;
    const r = await host.exec(["tail", "-c", `+${gen.logSize + 1}`, "--", gen.control.errorLog], { timeoutMs: this.timeoutMs });
    return r.code === 0 ? refusalIn(r.stdout) : undefined;
  }

  /** Waits until no child from before the reload is left, at most `ms`; returns how many are left. */
  private async oldWorkersExit(host: Host, gen: Generation, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const left = (await this.children(host, gen.master)).filter((c) => gen.before.has(c.pid)).length;
      if (left === 0 || Date.now() >= deadline) return left;
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }
}

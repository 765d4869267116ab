/**
 * The I/O half shared by the config-file backends (nginx, Varnish; HAProxy's pool file): a pool's
 * files are rendered by the backend's pure functions, written through a `Host` (temp name + move,
 * see Host.upload), validated and applied on EVERY balancer host. A change is all or nothing:
 *  - on a host that fails (unreachable, validator rejects, reload fails) the previous files are
 *    put back (a file that did not exist is removed again), so nothing half-applied remains;
 *  - the hosts that took the change are put back to the previous pool and applied again;
 *  - then a BalancerError names the balancer, the failing host and the tool's own message.
 * The engine serializes changes to one pool (engine/locks.ts); `serialize` can serialize a whole
 * balancer on top (tests, benches), since the backends import nothing from the engine.
 */
import type { Host } from "../runners/host.ts";
import { shellJoin } from "../runners/shell.ts";
import { BalancerError, type Balancer, type ChangeOptions, type Node } from "./balancer.ts";
import { checkNodes } from "./nodes.ts";
import { plural } from "../lib/plural.ts";

/** A file's content on a host; `null` = the file does not exist. */
export interface FileState {
  path: string;
  content: string | null;
}

export interface FileBackendOptions {
  /** The playbook's balancer name (in every error). */
  name: string;
  /** One Host per balancer host, in playbook order; the first one answers getNodes. */
  hosts: readonly Host[];
  /** argv run before every apply; a non-zero exit rejects the change. Empty: the apply validates itself (Varnish's vcl.load). */
  validate: readonly string[];
  /** Per-command timeout (validate, reload, reads). Default 60 s. */
  timeoutMs?: number;
  /** Runs `fn` with every change of this balancer serialized across workers. Default: no lock. */
  serialize?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** What a change asks of a backend's apply. */
export interface ApplyHow {
  /** The change takes nodes out of the pool (false for an add, and for putting a host back). */
  removes: boolean;
  /** ChangeOptions.drainMs: how long a removal may wait for what still routes to the removed nodes. */
  drainMs?: number;
}

/** How far a host got, for putting it back. */
type Stage = "read" | "written" | "validated" | "applied";

/** A failure on one balancer host, with the tool's own message. */
export class HostChangeError extends Error {
  constructor(
    readonly host: string,
    message: string,
    readonly output?: string,
  ) {
    super(message);
  }
}

/**
 * An apply the backend refused as a whole: the host still runs its previous configuration (nginx's
 * master kept its old workers), so putting the files back needs no second apply.
 */
export class ApplyRefusedError extends HostChangeError {}

interface HostResult {
  host: Host;
  before: FileState[];
  changed: boolean;
  summary: string;
}

const TAIL = 600;

/** The last `TAIL` characters of a tool's output, trimmed: enough to read the error. */
export function tail(text: string): string {
  const t = text.trim();
  return t.length > TAIL ? `…${t.slice(-TAIL)}` : t;
}

export abstract class FileBalancer implements Balancer {
  readonly name: string;
  protected readonly hosts: readonly Host[];
  protected readonly timeoutMs: number;
  private readonly validateArgv: readonly string[];
  private readonly serialize: <T>(fn: () => Promise<T>) => Promise<T>;

  constructor(opts: FileBackendOptions) {
    if (opts.hosts.length === 0) throw new BalancerError(opts.name, "has no hosts (list the balancer's machines under hosts:)");
    this.name = opts.name;
    this.hosts = opts.hosts;
    this.validateArgv = opts.validate;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.serialize = opts.serialize ?? ((fn) => fn());
  }

  /** The path of the file that holds `pool` on `host`. Throws BalancerError for a pool name the backend cannot hold. */
  protected abstract poolPath(pool: string, host: Host): string;
  /** Pure: the pool file's text for `nodes` (sorted, checked). */
  protected abstract render(pool: string, nodes: readonly Node[]): string;
  /** Pure: the nodes a pool file routes to (placeholders excluded). */
  protected abstract parse(text: string): Node[];
  /**
   * Applies the files now in place on `host` (after validation): the backend's reload. Returns a
   * few words for the thread; throws (HostChangeError) when the backend did not take the change.
   */
  protected abstract apply(host: Host, how: ApplyHow): Promise<string>;

  /** Files besides the pool file that a change of `pool` rewrites (Varnish's pools.vcl). Default none. */
  protected async companions(_host: Host, _pool: string, _nodes: readonly Node[]): Promise<FileState[]> {
    return [];
  }

  async getNodes(pool: string): Promise<Node[]> {
    const host = this.hosts[0]!;
    const path = this.poolPath(pool, host);
    const text = await this.public(host, () => this.read(host, path));
    return text === null ? [] : checkNodes(this.name, this.parse(text));
  }

  async addNodes(pool: string, nodes: readonly Node[], opts: ChangeOptions = {}): Promise<Node[]> {
    const add = checkNodes(this.name, nodes);
    return this.change(pool, (current) => [...current, ...add], `+${add.length}`, opts);
  }

  async deleteNodes(pool: string, nodes: readonly Node[], opts: ChangeOptions = {}): Promise<Node[]> {
    const gone = new Set(checkNodes(this.name, nodes));
    return this.change(pool, (current) => current.filter((n) => !gone.has(n)), `−${gone.size}`, opts);
  }

  /** Runs the validator on every host; throws BalancerError for the first that rejects. */
  async validate(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.public(h, () => this.check(h))));
  }

  /**
   * Edits the pool on every host (each host's own current list through `edit`), all or nothing.
   * Returns the first host's resulting nodes.
   */
  protected async change(pool: string, edit: (current: Node[]) => Node[], what: string, opts: ChangeOptions): Promise<Node[]> {
    for (const h of this.hosts) this.poolPath(pool, h); // a pool name the backend refuses fails before any host is touched
    return this.serialize(async () => {
      const settled = await Promise.allSettled(this.hosts.map((h) => this.changeHost(h, pool, this.poolPath(pool, h), edit, opts)));
      const failed = settled.flatMap((s, i) => (s.status === "rejected" ? [{ host: this.hosts[i]!, error: s.reason as unknown }] : []));
      const done = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      if (failed.length === 0) {
        for (const r of done) await report(opts, `${r.host.name}: ${r.changed ? `${what}, ${r.summary}` : "already so"}`);
        return this.getNodes(pool);
      }
      // All or nothing: put back the hosts that took the change.
      const notes: string[] = [];
      for (const r of done.filter((d) => d.changed)) {
        try {
          await this.restore(r.host, r.before, "applied");
          notes.push(`${r.host.name} was put back to the previous pool`);
          await report(opts, `${r.host.name}: put back to the previous pool`);
        } catch (e) {
          notes.push(`could not put ${r.host.name} back: ${(e as Error).message}`);
        }
      }
      const first = failed[0]!;
      const err = first.error;
      const host = err instanceof HostChangeError ? err.host : first.host.name;
      const message = err instanceof BalancerError ? err.message.replace(/^balancer \S+( on \S+)?: /, "") : (err as Error).message;
      for (const f of failed) await report(opts, `${f.host.name}: failed`);
      const others = failed.slice(1).map((f) => `${f.host.name} failed too`);
      throw new BalancerError(this.name, [message, ...others, ...notes].join("; "), { host, output: err instanceof HostChangeError ? err.output : undefined });
    });
  }

  private async changeHost(host: Host, pool: string, path: string, edit: (current: Node[]) => Node[], opts: ChangeOptions): Promise<HostResult> {
    const before = await this.wrap(host, () => this.read(host, path));
    const current = before === null ? [] : this.parse(before);
    const next = checkNodes(this.name, edit(current));
    // Nothing to do: the same nodes, or deleting from a pool that does not exist (it stays absent).
    if ((before !== null && sameNodes(checkNodes(this.name, current), next)) || (before === null && next.length === 0)) return { host, before: [], changed: false, summary: "" };
    const files = [{ path, content: this.render(pool, next) }, ...(await this.wrap(host, () => this.companions(host, pool, next)))];
    const snapshot: FileState[] = [];
    for (const f of files) snapshot.push(f.path === path ? { path, content: before } : { path: f.path, content: await this.wrap(host, () => this.read(host, f.path)) });
    let stage: Stage = "read";
    try {
      await this.wrap(host, () => this.write(host, files));
      stage = "written";
      await this.wrap(host, () => this.check(host));
      stage = "validated";
      const removes = current.some((n) => !next.includes(n));
      const summary = await this.wrap(host, () => this.apply(host, { removes, drainMs: opts.drainMs }));
      stage = "applied";
      return { host, before: snapshot, changed: true, summary: `${this.validateArgv.length ? `${this.validateArgv[0]} ok, ` : ""}${summary} (${plural(next.length, "node")})` };
    } catch (e) {
      // Nothing half-applied: the previous files go back; if the apply may have half-run, apply them again.
      if (stage !== "read") {
        try {
          await this.restore(host, snapshot, stage === "validated" && !(e instanceof ApplyRefusedError) ? "applied" : "written");
        } catch (r) {
          throw new HostChangeError(host.name, `${(e as Error).message}; and putting the previous files back failed: ${(r as Error).message}`);
        }
      }
      throw e;
    }
  }

  /** Writes `files` back; when the host had applied the change (or may have), validates and applies them again. */
  private async restore(host: Host, files: readonly FileState[], stage: "written" | "applied"): Promise<void> {
    await this.wrap(host, () => this.write(host, files));
    if (stage === "applied") {
      await this.wrap(host, () => this.check(host));
      await this.wrap(host, () => this.apply(host, { removes: false }));
    }
  }

  /** Runs `argv` on `host`; a non-zero exit throws HostChangeError with the tool's own message. */
  protected async run(host: Host, argv: readonly string[]): Promise<string> {
    const r = await host.exec(argv, { timeoutMs: this.timeoutMs });
    if (r.code !== 0) {
      const output = tail(`${r.stderr}\n${r.stdout}`);
      throw new HostChangeError(host.name, `\`${shellJoin(argv)}\` failed (exit ${r.code}): ${output || "no output"}`, output);
    }
    return r.stdout;
  }

  private async check(host: Host): Promise<void> {
    if (this.validateArgv.length) await this.run(host, this.expandAll(host, this.validateArgv));
  }

  /**
   * `{host}` in a setting becomes the balancer host's name (as in a squad's `root`), so hosts
   * that share one machine (tests, several nginx instances) keep apart files.
   */
  protected expand(host: Host, value: string): string {
    return value.replaceAll("{host}", host.name);
  }

  protected expandAll(host: Host, argv: readonly string[]): string[] {
    return argv.map((a) => this.expand(host, a));
  }

  /** The file's text, or null when it does not exist. */
  protected async read(host: Host, path: string): Promise<string | null> {
    const r = await host.exec(["cat", "--", path], { timeoutMs: this.timeoutMs });
    if (r.code === 0) return r.stdout;
    if (/No such file or directory/.test(r.stderr)) return null;
    throw new HostChangeError(host.name, `cannot read ${path}: ${tail(r.stderr) || `exit ${r.code}`}`);
  }

  /** Each file is written under a temp name and moved into place (Host.upload); `null` removes it. */
  private async write(host: Host, files: readonly FileState[]): Promise<void> {
    for (const f of files) {
      if (f.content === null) await this.run(host, ["rm", "-f", "--", f.path]);
      else await host.upload(f.content, f.path, 0o644);
    }
  }

  /** For public methods: anything `fn` throws becomes a BalancerError naming the balancer and `host`. */
  private async public<T>(host: Host, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.wrap(host, fn);
    } catch (e) {
      if (e instanceof BalancerError) throw e;
      const he = e as HostChangeError;
      throw new BalancerError(this.name, he.message, { host: he.host, output: he.output });
    }
  }

  /** Turns anything `fn` throws into a HostChangeError naming `host` (unreachable hosts, refused keys, upload errors). */
  protected async wrap<T>(host: Host, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HostChangeError || e instanceof BalancerError) throw e;
      throw new HostChangeError(host.name, (e as Error).message);
    }
  }
}

function sameNodes(a: readonly Node[], b: readonly Node[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

async function report(opts: ChangeOptions, message: string): Promise<void> {
  try {
    await opts.progress?.(message);
  } catch {
    // The thread is a view; a failed progress event must not fail the change.
  }
}

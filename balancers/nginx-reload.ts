/**
 * Pure: what Raptor needs to confirm an nginx reload took. `nginx -s reload` only sends SIGHUP to
 * the master and returns; the master then re-reads its config, starts a new generation of worker
 * processes and asks the old ones to finish their in-flight requests and exit. A config the
 * master refuses (a `listen` it cannot bind, a file it cannot open: things `nginx -t` does not
 * try) leaves the old workers serving the old config, with an `[emerg]` line in its error log
 * (nginx docs, "Controlling nginx": changing configuration). So a reload took when the master
 * has a child process that was not there before, and an old node stops being routed to when
 * every worker of the generations before has exited.
 *
 * The master is known by its pid file, whose path is read from the configuration the way
 * `nginx -s` finds it: a `pid` directive in `-g` or the config, else the compiled-in
 * `--pid-path` (relative paths are under the prefix: `-p`, else the compiled-in `--prefix`).
 */
import { posix } from "node:path";

/** Where one nginx instance keeps its master's pid and writes its errors, on its host. */
export interface NginxControl {
  /** Absolute path of the pid file the master writes. */
  pidFile: string;
  /** Absolute path of the error log, or undefined when it is not a file (stderr, syslog:, memory:). */
  errorLog: string | undefined;
}

/**
 * The argv that reads the same configuration as the running master: the `reload` argv when it
 * runs nginx itself (`nginx … -s reload`, possibly behind a wrapper such as `sudo -n`), with the
 * `-s reload` taken out; else the `validate` argv when it runs nginx (`nginx … -t`), with `-t`,
 * `-T` and `-q` taken out. Undefined when neither runs nginx (e.g. `reload: systemctl reload
 * nginx` with a validator of the operator's own): the reload then cannot be confirmed.
 */
export function nginxConfigArgv(reload: readonly string[], validate: readonly string[]): string[] | undefined {
  const at = (argv: readonly string[]) => argv.findIndex((a) => /^nginx(-\w+)?$/.test(posix.basename(a)));
  const r = at(reload);
  if (r >= 0) {
    const s = reload.indexOf("-s", r);
    if (s >= 0 && reload[s + 1] === "reload") return [...reload.slice(0, s), ...reload.slice(s + 2)];
  }
  const v = at(validate);
  if (v >= 0) return validate.filter((a, i) => i <= v || !["-t", "-T", "-q"].includes(a));
  return undefined;
}

/** The value following `flag` in an nginx argv (`-p prefix`, `-e log`, `-g directives`), if given. */
function option(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** nginx's build options from `nginx -V` (stderr): `--prefix=`, `--pid-path=`, `--error-log-path=`. */
function built(versionText: string, name: string): string | undefined {
  return new RegExp(`--${name}=(\\S+)`).exec(versionText)?.[1];
}

/**
 * The first main-level `directive value;` in nginx config text (comments stripped). `pid` exists
 * only at the main level; for `error_log` the first one is taken, which in the dump of `nginx -T`
 * (the main file first) is the main level's when the main file sets one before its blocks.
 */
export function directive(text: string, name: string): string | undefined {
  const clean = text
    .split("\n")
    .map((l) => l.replace(/(^|\s)#.*$/, ""))
    .join("\n");
  const m = new RegExp(`(?:^|[;{}\\s])${name}\\s+("[^"]*"|'[^']*'|[^;\\s]+)[^;]*;`).exec(clean);
  return m ? m[1]!.replace(/^["']|["']$/g, "") : undefined;
}

/**
 * The pid file and error log of the instance `argv` (from nginxConfigArgv) controls, from the text
 * of `<argv> -T` (`dump`, the whole configuration) and `<argv> -V` (`version`). Throws Error
 * when no pid file can be named (neither the config nor the build says).
 */
export function nginxControl(argv: readonly string[], dump: string, version: string): NginxControl {
  const prefix = option(argv, "-p") ?? built(version, "prefix") ?? "/usr/share/nginx";
  const under = (p: string) => (posix.isAbsolute(p) ? p : posix.join(prefix, p));
  const globals = option(argv, "-g") ?? "";
  const pid = directive(globals, "pid") ?? directive(dump, "pid") ?? built(version, "pid-path");
  if (!pid) throw new Error("neither its configuration nor `nginx -V` names a pid file");
  const log = option(argv, "-e") ?? directive(globals, "error_log") ?? directive(dump, "error_log") ?? built(version, "error-log-path");
  const isFile = log !== undefined && log !== "stderr" && !/^(syslog|memory):/.test(log);
  return { pidFile: under(pid), errorLog: isFile ? under(log) : undefined };
}

/** One child process of the master, from `ps -o pid=,args=`. */
export interface NginxChild {
  pid: number;
  /** The process title nginx sets: "nginx: worker process", "nginx: worker process is shutting down", "nginx: cache manager process". */
  title: string;
}

/** The children in `ps -o pid=,args=` output. */
export function parseChildren(text: string): NginxChild[] {
  return text.split("\n").flatMap((l) => {
    const m = /^\s*(\d+)\s+(.*)$/.exec(l);
    return m ? [{ pid: Number(m[1]), title: m[2]!.trim() }] : [];
  });
}

/**
 * Whether a reload has gone through, judged from the master's children now and the pids it had
 * before: a new child exists, and every old worker still there has been told to stop accepting
 * (its title says "is shutting down"). The master starts the new workers first and signals the
 * old ones about 100 ms later (ngx_master_process_cycle), so new workers alone are not enough:
 * until then an old worker may still accept a request and route it with the old upstream.
 */
export function reloadTook(before: ReadonlySet<number>, now: readonly NginxChild[]): boolean {
  const fresh = now.some((c) => !before.has(c.pid));
  const oldAccepting = now.some((c) => before.has(c.pid) && /worker process$/.test(c.title));
  return fresh && !oldAccepting;
}

/**
 * Why the master refused a reload, from what its error log gained since the reload was sent: the
 * last `[emerg]` line (the level nginx logs a configuration it cannot apply at), or undefined.
 */
export function refusalIn(logText: string): string | undefined {
  const lines = logText.split("\n").filter((l) => /\[emerg\]/.test(l));
  return lines.at(-1)?.trim();
}

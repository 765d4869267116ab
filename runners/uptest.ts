import { request } from "node:http";
import type { Host } from "./host.ts";
import { PROC_TYPE } from "../lib/names.ts";
import { withEnvFile } from "./proc-layout.ts";
import { plural } from "../lib/plural.ts";

/** One uptest's outcome: Velociraptor's result (name, passed, output) plus the exit code. */
export interface UptestResult {
  name: string;
  passed: boolean;
  /** stdout then stderr of the last attempt, trimmed to the last 4000 characters. */
  output: string;
  /** The last attempt's exit code; -1 when there was none (not executable, HTTP error). */
  exitCode: number;
}

export interface UptestOptions {
  /** The proc's directory (its unpacked build); uptests run with it as cwd. */
  procDir: string;
  procType: string;
  /** Passed to each uptest as argv[1]: where the proc listens. */
  hostName: string;
  /** argv[2]; procs without a port get "0". */
  port?: number;
  /**
   * The proc's env file on the host (procPaths().envFile, written by startProc), sourced before
   * each uptest so it sees what the proc sees, without config values on the command line.
   */
  envFile: string;
  /**
   * Optional cap on one run of one script (the environment's `uptest_run_timeout`). Without it a
   * run may take all the time left before the deadline.
   */
  runTimeoutMs?: number;
  /** Budget for the whole call, from its start (the environment's `uptest_timeout`): each script is retried until it passes or this passes. */
  deadlineMs: number;
  /** argv prefix that drops to the proc's user (process-runner's asProcUser(host, squad, [])); none by default. */
  asUser?: readonly string[];
}

const OUTPUT_LIMIT = 4000;

/**
 * Runs every file in `<procDir>/uptests/<procType>/` in name order (C locale) with `host port`.
 * A non-executable file is a failed uptest (it was meant to run). Missing or empty directory: [],
 * and the caller falls back to the environment's health check.
 *
 * The directory comes from the repo, so `uptests` (or `uptests/<type>`) may be a link. It is
 * resolved, and listed, as the proc's user (`asUser`), never as root; when it resolves outside the
 * proc's directory it is neither listed nor run, and the one result says so (LINKED_OUT).
 */
export async function runUptests(host: Host, o: UptestOptions): Promise<UptestResult[]> {
  if (!PROC_TYPE.test(o.procType)) throw new Error(`invalid proc type ${JSON.stringify(o.procType)}`);
  const rel = `uptests/${o.procType}`;
  const dir = `${o.procDir}/${rel}`;
  const as = o.asUser ?? [];
  // -m: no component need exist; a link is resolved without reading the directory it leads to.
  // cwd: the proc's dir, which its user can enter (find fails in a cwd it cannot return to, as /root).
  const opts = { cwd: o.procDir, timeoutMs: 30_000 };
  const resolved = await host.exec([...as, "realpath", "-m", "-z", "--", o.procDir, dir], opts);
  const [realProcDir, realDir] = resolved.stdout.split("\0");
  if (resolved.code !== 0 || !realProcDir || !realDir) throw new Error(`cannot resolve ${dir} on ${host.name}: ${resolved.stderr.trim()}`);
  if (!isInside(realProcDir, realDir)) return [{ name: "uptests", passed: false, output: linkedOut(rel), exitCode: -1 }];
  if ((await host.exec([...as, "test", "-d", realDir], opts)).code !== 0) return [];
  const listing = await host.exec(
    // -P: links are not followed (an uptest linked out of the tree is not listed, never run).
    [...as, "find", "-P", realDir, "-mindepth", "1", "-maxdepth", "1", "-type", "f", "(", "-executable", "-printf", "x %f\\0", "-o", "-printf", "- %f\\0", ")"],
    opts,
  );
  if (listing.code !== 0) throw new Error(`cannot list ${dir} on ${host.name}: ${listing.stderr.trim()}`);
  const files = listing.stdout
    .split("\0")
    .filter((e) => e.length > 2 && !e.slice(2).startsWith("."))
    .map((e) => ({ name: e.slice(2), executable: e.startsWith("x") }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const started = Date.now();
  const deadline = started + o.deadlineMs;
  const results: UptestResult[] = [];
  for (const f of files) {
    if (!f.executable) {
      results.push({ name: f.name, passed: false, output: `uptests/${o.procType}/${f.name} is not executable (chmod +x it, or move it out)`, exitCode: -1 });
      continue;
    }
    results.push(
      await retryUntil({ started, deadlineMs: o.deadlineMs }, f.name, async () => {
        const timeoutMs = runTimeout(deadline - Date.now(), o.runTimeoutMs);
        const r = await host.exec([...(o.asUser ?? []), ...withEnvFile(o.envFile, [`${dir}/${f.name}`, o.hostName, String(o.port ?? 0)])], { cwd: o.procDir, timeoutMs });
        return { exitCode: r.code, output: joinOutput(r.stdout, r.stderr) };
      }),
    );
  }
  return results;
}

export interface HealthcheckOptions {
  hostName: string;
  port: number;
  /** URL path, e.g. "/health". */
  path: string;
  /** Budget for the whole check from its start, retrying until a 2xx/3xx answer. */
  deadlineMs: number;
  /** One request's bound; default 5000. */
  timeoutMs?: number;
}

/** HTTP GET from Raptor's side; 2xx or 3xx passes. Same result shape as an uptest. */
export async function runHealthcheck(o: HealthcheckOptions): Promise<UptestResult> {
  const path = o.path.startsWith("/") ? o.path : `/${o.path}`;
  const started = Date.now();
  return retryUntil({ started, deadlineMs: o.deadlineMs }, `healthcheck ${path}`, () => httpGet(o.hostName, o.port, path, o.timeoutMs ?? 5000));
}

/** Smallest time one run is given, even right at the deadline: every script gets a real try. */
export const MIN_RUN_MS = 1000;

/**
 * How long one run may take: the time left before the environment's deadline, cut to the
 * `uptest_run_timeout` cap when the playbook sets one, never under MIN_RUN_MS.
 */
export function runTimeout(leftMs: number, capMs?: number): number {
  const left = Math.max(leftMs, MIN_RUN_MS);
  return capMs === undefined ? left : Math.min(capMs, left);
}

/** "61.0s": a duration as the thread shows it. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function retryUntil(budget: { started: number; deadlineMs: number }, name: string, attempt: () => Promise<{ exitCode: number; output: string }>): Promise<UptestResult> {
  const deadline = budget.started + budget.deadlineMs;
  for (let delay = 250, tries = 1; ; delay = Math.min(delay * 2, 2000), tries++) {
    let r: { exitCode: number; output: string };
    try {
      r = await attempt();
    } catch (e) {
      r = { exitCode: -1, output: (e as Error).message };
    }
    if (r.exitCode === 0) return { name, passed: true, output: trim(r.output), exitCode: 0 };
    const left = deadline - Date.now();
    if (left <= 0) {
      // The real time spent, not one run's cap: the deadline is what the person set.
      const why = `${name} did not pass within uptest_timeout ${seconds(budget.deadlineMs)}: gave up after ${seconds(Date.now() - budget.started)} and ${plural(tries, "attempt")}.`;
      return { name, passed: false, output: trim(`${r.output.trimEnd()}\n${why}`), exitCode: r.exitCode };
    }
    await new Promise((res) => setTimeout(res, Math.min(delay, left)));
  }
}

/** exitCode 0 for a 2xx/3xx answer, the status otherwise, -1 when no answer came. */
function httpGet(hostName: string, port: number, path: string, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    const req = request({ host: hostName, port, path, method: "GET", timeout: timeoutMs, headers: { "user-agent": "raptor-healthcheck" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ exitCode: status >= 200 && status < 400 ? 0 : status, output: `GET http://${hostName}:${port}${path} -> HTTP ${status}\n${body}` });
      });
      res.on("error", (e) => resolve({ exitCode: -1, output: `GET http://${hostName}:${port}${path}: ${e.message}` }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ exitCode: -1, output: `GET http://${hostName}:${port}${path}: ${e.code ?? ""} ${e.message}`.trim() }));
    req.end();
  });
}

/**
 * Whether `path` lies strictly inside `root`; both are absolute and already resolved (realpath).
 * Pure.
 */
export function isInside(root: string, path: string): boolean {
  const base = root.endsWith("/") ? root : `${root}/`;
  return path.startsWith(base);
}

/** What the thread says when an app's uptests directory resolves outside its tree. */
export function linkedOut(rel: string): string {
  return `${rel} is a link out of the app's tree (or lies under one): Raptor lists and runs uptests only inside the app, so none ran. Make uptests a directory in the repo.`;
}

function joinOutput(stdout: string, stderr: string): string {
  return stderr ? (stdout && !stdout.endsWith("\n") ? `${stdout}\n${stderr}` : `${stdout}${stderr}`) : stdout;
}

function trim(s: string): string {
  return s.length > OUTPUT_LIMIT ? s.slice(-OUTPUT_LIMIT) : s;
}

import type { ErrorCode } from "../../lib/error-codes.ts";
import xmlrpc from "xmlrpc";
import type { ProcessInfo, Supervisor } from "./types.ts";

/** supervisord's fault codes (supervisor/xmlrpc.py `Faults`) that Raptor treats specially. */
export const Faults = {
  BAD_NAME: 10,
  ABNORMAL_TERMINATION: 40,
  SPAWN_ERROR: 50,
  ALREADY_STARTED: 60,
  NOT_RUNNING: 70,
  ALREADY_ADDED: 90,
  STILL_RUNNING: 91,
  CANT_REREAD: 92,
} as const;

/** A supervisord call failed. The message names the url (never the password), method and fault. */
export class SupervisorError extends Error {
  readonly code = "supervisor_failed" satisfies ErrorCode;
  constructor(
    readonly url: string,
    readonly method: string,
    message: string,
    readonly faultCode?: number,
    /** What kind of failure, when it was not a fault: credentials refused, nothing listening, no answer in time. */
    readonly failure?: "unauthorized" | "unreachable" | "timeout",
  ) {
    super(message);
    this.name = "SupervisorError";
  }
}

export interface SupervisorClientOptions {
  /** `http(s)://host:9001/RPC2`, `{host}` already substituted (see supervisorUrl). */
  url: string;
  username?: string;
  password?: string;
  /** Per call; default 30000. startProcess/stopProcess with wait=true may take stopwaitsecs. */
  timeoutMs?: number;
  /** Calls go through it (the per-host limit of runners/host-cache.ts); the timeout starts once a call is let through. */
  limiter?: { run<T>(fn: () => Promise<T>): Promise<T> };
}

/** The squad's url template for one host: `http://{host}:9001/RPC2` -> `http://10.0.0.5:9001/RPC2`. */
export function supervisorUrl(template: string, hostName: string): string {
  return template.split("{host}").join(hostName);
}

/** The url with any userinfo removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}

type Fault = Error & { faultCode?: number; faultString?: string; code?: unknown; res?: { statusCode?: number } };

/** A Supervisor over supervisord's XML-RPC interface (`[inet_http_server]`), basic auth. */
export function createSupervisor(opts: SupervisorClientOptions): Supervisor {
  const u = new URL(opts.url);
  const shown = redactUrl(opts.url);
  const secure = u.protocol === "https:";
  if (!secure && u.protocol !== "http:") throw new Error(`supervisor url must be http(s): ${shown}`);
  const user = opts.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const pass = opts.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
  const timeoutMs = opts.timeoutMs ?? 30_000;

  function call<T>(method: string, params: unknown[]): Promise<T> {
    return opts.limiter ? opts.limiter.run(() => send<T>(method, params)) : send<T>(method, params);
  }

  function send<T>(method: string, params: unknown[]): Promise<T> {
    // A fresh client per call: the options object carries this call's abort signal.
    const signal = AbortSignal.timeout(timeoutMs);
    const clientOpts = {
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(u.port || (secure ? 443 : 80)),
      path: `${u.pathname}${u.search}` || "/RPC2",
      basic_auth: user !== undefined ? { user, pass: pass ?? "" } : undefined,
      signal,
    };
    const client = secure ? xmlrpc.createSecureClient(clientOpts) : xmlrpc.createClient(clientOpts);
    return new Promise<T>((resolve, reject) => {
      client.methodCall(method, params, (err: unknown, value: unknown) => {
        if (!err) return resolve(value as T);
        reject(toSupervisorError(err as Fault, method, params, shown, signal.aborted ? timeoutMs : undefined));
      });
    });
  }

  /** Runs the call; the listed faults mean "already in the state you asked for". */
  async function idempotent(method: string, params: unknown[], ok: readonly number[]): Promise<void> {
    try {
      await call(method, params);
    } catch (e) {
      if (e instanceof SupervisorError && e.faultCode !== undefined && ok.includes(e.faultCode)) return;
      throw e;
    }
  }

  const supervisor: Supervisor = {
    getAllProcessInfo: () => call<ProcessInfo[]>("supervisor.getAllProcessInfo", []),
    async reloadConfig() {
      const [[added, changed, removed]] = await call<[[string[], string[], string[]]]>("supervisor.reloadConfig", []);
      return { added, changed, removed };
    },
    addProcessGroup: (name) => idempotent("supervisor.addProcessGroup", [name], [Faults.ALREADY_ADDED]),
    startProcess: (name, wait = true) => idempotent("supervisor.startProcess", [name, wait], [Faults.ALREADY_STARTED]),
    stopProcess: (name, wait = true) => idempotent("supervisor.stopProcess", [name, wait], [Faults.NOT_RUNNING, Faults.BAD_NAME]),
    async removeProcessGroup(name) {
      try {
        await idempotent("supervisor.removeProcessGroup", [name], [Faults.BAD_NAME]);
      } catch (e) {
        if (!(e instanceof SupervisorError) || e.faultCode !== Faults.STILL_RUNNING) throw e;
        await supervisor.stopProcess(name, true);
        await idempotent("supervisor.removeProcessGroup", [name], [Faults.BAD_NAME]);
      }
    },
    async addAndStart(names) {
      if (names.length === 0) return;
      const calls = names.flatMap((n) => [
        { methodName: "supervisor.addProcessGroup", params: [n] },
        { methodName: "supervisor.startProcess", params: [n, false] },
      ]);
      // supervisord answers each call with its bare value (not the spec's one-item array) or a fault struct.
      const results = await call<unknown[]>("system.multicall", [calls]);
      for (const [i, value] of results.entries()) {
        if (!value || typeof value !== "object" || !("faultCode" in value)) continue;
        const r = value as { faultCode: number; faultString?: string };
        const c = calls[i]!;
        const ok: number[] = c.methodName === "supervisor.addProcessGroup" ? [Faults.ALREADY_ADDED] : [Faults.ALREADY_STARTED];
        if (ok.includes(r.faultCode)) continue;
        throw toSupervisorError(Object.assign(new Error(r.faultString ?? `fault ${r.faultCode}`), r), c.methodName, c.params, shown);
      }
    },
    tailProcessStdoutLog: (name, offset, length) =>
      call<[string, number, boolean]>("supervisor.tailProcessStdoutLog", [name, offset, length]),
  };
  return supervisor;
}

function toSupervisorError(err: Fault, method: string, params: unknown[], url: string, timedOutAfter?: number): SupervisorError {
  const what = `${method}(${params.filter((p) => typeof p === "string").join(", ")})`;
  if (typeof err.faultCode === "number") {
    return new SupervisorError(url, method, `supervisord at ${url}: ${what} failed: ${err.faultString ?? "fault " + err.faultCode}`, err.faultCode);
  }
  if (timedOutAfter !== undefined) {
    return new SupervisorError(url, method, `supervisord at ${url}: ${what} timed out after ${timedOutAfter}ms`, undefined, "timeout");
  }
  const status = err.res?.statusCode;
  if (status === 401) return new SupervisorError(url, method, `supervisord at ${url} refused our username/password (HTTP 401) on ${what}`, undefined, "unauthorized");
  const code = typeof err.code === "string" ? err.code : undefined;
  if (code && /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT)$/.test(code)) {
    return new SupervisorError(url, method, `supervisord is not reachable at ${url} (${code}) on ${what}`, undefined, "unreachable");
  }
  const detail = status !== undefined ? `HTTP ${status}: ${err.message}` : err.message;
  return new SupervisorError(url, method, `supervisord at ${url}: ${what} failed: ${detail}`);
}

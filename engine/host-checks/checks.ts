/**
 * What `hosts check` looks at on each host, one entry per thing a host needs before Raptor can run
 * procs on it. To add a check, append a HostCheck to `hostChecks`: it gets the host's handles and
 * the results of the checks it `needs`; it returns ok/warn/fail with one line of detail and, when
 * not ok, the fix in one line. A check whose prerequisite did not pass is skipped.
 */
import { randomBytes } from "node:crypto";
import { HostUnreachableError } from "../../runners/host.ts";
import { includeMissing, procUserMissing, rootNotWritable, sftpMissing, supervisorFinding } from "../../runners/host-readiness.ts";
import { busyPorts, scanListeners } from "../../runners/listeners.ts";
import { renderSupervisorProgram } from "../../runners/proc-layout.ts";
import type { Squad } from "../../playbooks/types.ts";
import { reachedAsRoot } from "../../runners/process-runner.ts";
import { passwdProblem, procIdentity } from "../../runners/proc-user.ts";
import { APP_PLACEHOLDER } from "../../lib/proc-user-name.ts";
import type { HostHandle } from "../fleet.ts";
import { plural } from "../../lib/plural.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  status: CheckStatus;
  /** One line: what was found. */
  detail: string;
  /** One line: what to change, for warn and fail. */
  fix?: string;
}

export interface HostCheckInput {
  squad: Squad;
  /** The host's transport, supervisord client and expanded root. */
  handle: HostHandle;
  /** Ports leased to Raptor's live procs on this host. */
  leased: ReadonlySet<number>;
  /** The apps with an environment on this squad (whose procs may run on the host). */
  apps: readonly string[];
}

export interface HostCheck {
  /** The check's key (what `needs` refers to). */
  name: string;
  /** What people read, when it depends on the squad (the ssh check on a local squad says "local"). Default `name`. */
  label?(squad: Squad): string;
  /** Checks that must pass (ok or warn) first; otherwise this one is skipped. */
  needs?: readonly string[];
  run(input: HostCheckInput): Promise<CheckResult>;
}

const PROBE_TIMEOUT_MS = 15_000;

const ok = (detail: string): CheckResult => ({ status: "ok", detail });
const fail = (detail: string, fix?: string): CheckResult => ({ status: "fail", detail, fix });

/** A thrown error as a result: its fix when it carries one (HostUnreachableError). */
function failed(err: unknown, fallbackFix?: string): CheckResult {
  if (err instanceof HostUnreachableError) return fail(`${err.host}: ${err.reason}`, err.fix ?? fallbackFix);
  return fail(err instanceof Error ? err.message : String(err), fallbackFix);
}

export const sshCheck: HostCheck = {
  name: "ssh",
  // A local squad is not reached over SSH: a "✓ ssh" there would say something that is not so.
  label: (squad) => (squad.transport === "local" ? "local" : "ssh"),
  async run({ squad, handle }) {
    try {
      const r = await handle.host.exec(["true"], { timeoutMs: PROBE_TIMEOUT_MS });
      if (r.code !== 0) return fail(`\`true\` exited ${r.code} on ${handle.name}: ${r.stderr.trim()}`, `check the login shell of ${squad.ssh.user} on ${handle.name}`);
      return ok(squad.transport === "local" ? "this machine (transport: local)" : `logged in as ${squad.ssh.user}, host key verified`);
    } catch (err) {
      return failed(err);
    }
  },
};

export const rootCheck: HostCheck = {
  name: "root",
  needs: ["ssh"],
  async run({ squad, handle }) {
    const dirs = ["builds", "procs", "supervisor", "logs"].map((d) => `${handle.root}/${d}`);
    const r = await handle.host.exec(["mkdir", "-p", "--", ...dirs], { timeoutMs: PROBE_TIMEOUT_MS }).catch((e: unknown) => e as Error);
    if (r instanceof Error) return failed(r);
    if (r.code !== 0) {
      const f = rootNotWritable(handle.name, handle.root, squad.ssh.user, r.stderr.trim().split("\n")[0] || `mkdir exited ${r.code}`);
      return fail(f.problem, f.fix);
    }
    return ok(`${handle.root} is there`);
  },
};

export const uploadCheck: HostCheck = {
  name: "upload",
  needs: ["root"],
  async run({ squad, handle }) {
    const probe = `${handle.root}/.raptor-check-${randomBytes(6).toString("hex")}`;
    const text = `raptor hosts check ${probe}\n`;
    try {
      await handle.host.upload(text, probe, 0o600);
      const back = await handle.host.exec(["cat", "--", probe], { timeoutMs: PROBE_TIMEOUT_MS });
      if (back.stdout !== text) return fail(`a file uploaded to ${probe} reads back differently`, `check the disk of ${handle.name}`);
    } catch (err) {
      const f = rootNotWritable(handle.name, handle.root, squad.ssh.user, err instanceof Error ? err.message : String(err));
      return err instanceof HostUnreachableError ? failed(err) : fail(f.problem, f.fix);
    } finally {
      await handle.host.exec(["rm", "-f", "--", probe]).catch(() => {});
    }
    const via = handle.host.uploadVia?.();
    if (via === "exec") {
      const f = sftpMissing(handle.name);
      return { status: "warn", detail: f.problem, fix: f.fix };
    }
    return ok(via === "sftp" ? "a file went up over SFTP and read back intact" : "a file was written and read back intact");
  },
};

export const supervisorCheck: HostCheck = {
  name: "supervisord",
  async run({ handle }) {
    try {
      const procs = await handle.supervisor.getAllProcessInfo();
      return ok(`answers over XML-RPC with our credentials (${plural(procs.length, "program")})`);
    } catch (err) {
      const f = supervisorFinding(err, handle.name);
      return fail(f.problem, f.fix);
    }
  },
};

export const includeCheck: HostCheck = {
  name: "include",
  needs: ["upload", "supervisord"],
  async run({ handle }) {
    // A program file of our own where Raptor writes them: supervisord must see it after a reload.
    const name = `raptor-check-${randomBytes(4).toString("hex")}`;
    const file = `${handle.root}/supervisor/${name}.conf`;
    try {
      const conf = renderSupervisorProgram({ name, command: ["/bin/true"], directory: handle.root, stdoutLog: `${handle.root}/logs/${name}.log` });
      await handle.host.upload(conf, file, 0o644);
      const { added, changed } = await handle.supervisor.reloadConfig();
      if (added.includes(name) || changed.includes(name)) return ok(`supervisord reads ${handle.root}/supervisor/*.conf`);
      const f = includeMissing(handle.name, handle.root);
      return fail(f.problem, f.fix);
    } catch (err) {
      return failed(err);
    } finally {
      await handle.host.exec(["rm", "-f", "--", file]).catch(() => {});
    }
  },
};

export const portsCheck: HostCheck = {
  name: "ports",
  needs: ["ssh"],
  async run({ squad, handle, leased }) {
    const { from, to } = squad.ports;
    try {
      const busy = busyPorts(await scanListeners(handle.host), handle.name, squad.ports, leased);
      const free = to - from + 1 - busy.length - [...leased].filter((p) => p >= from && p <= to).length;
      if (free <= 0) return fail(`no free port in ${from}-${to} (${leased.size} leased to Raptor, ${busy.length} held by other programs)`, `widen the squad's ports, or stop what holds ${busy.slice(0, 5).join(", ")}`);
      if (busy.length) {
        return { status: "warn", detail: `${free} free in ${from}-${to}; held by other programs (skipped): ${busy.join(", ")}`, fix: `stop what listens on ${busy.join(", ")} on ${handle.name}, or leave it: Raptor skips those ports` };
      }
      return ok(`${free} free in ${from}-${to}`);
    } catch (err) {
      return failed(err, `install iproute2 (ss) on ${handle.name}, or make /proc/net/tcp readable`);
    }
  },
};

/** Every check, in the order they run and are shown. Append new ones here. */
/**
 * Who each app of the squad runs as on the host (runners/proc-user.ts): its own user by default,
 * which Raptor creates at the app's first start there (said as a warning while missing); a fixed
 * `user:` must exist. Fails on a uid 0 user, a user Raptor would take over that it did not create
 * for the app, or a missing group.
 */
export const procUserCheck: HostCheck = {
  name: "proc user",
  needs: ["ssh"],
  async run({ squad, handle, apps }) {
    const asRoot = await reachedAsRoot(handle.host).catch((e: unknown) => e as Error);
    if (asRoot instanceof Error) return failed(asRoot);
    if (!asRoot) {
      return {
        status: "warn",
        detail: `Raptor does not reach ${handle.name} as root, so every proc runs as the user it logs in as: the squad's apps can read each other's files and environment`,
        fix: `reach ${handle.name} as root (the squad's ssh.user) so each app runs as its own user`,
      };
    }
    // A fixed user is checked even when no app uses the squad yet; a template, for each app.
    const fixed = !squad.user.includes(APP_PLACEHOLDER);
    const ids = (fixed ? [apps[0] ?? ""] : apps).map((app) => ({ app, id: procIdentity(squad, app) }));
    const names = [...new Set(ids.map((x) => x.id.user))];
    if (names.length === 0) return ok("procs run as each app's own user; no app uses this squad yet");
    const r = await handle.host.exec(["getent", "passwd", "--", ...names], { timeoutMs: PROBE_TIMEOUT_MS }).catch((e: unknown) => e as Error);
    if (r instanceof Error) return failed(r);
    const entries = new Map(r.stdout.split("\n").filter(Boolean).map((line) => [line.split(":")[0]!, line]));
    const missing: string[] = [];
    for (const { app, id } of ids) {
      const entry = entries.get(id.user);
      if (entry === undefined) {
        if (fixed) {
          const f = procUserMissing(handle.name, id.user, squad.group, "user");
          return fail(f.problem, f.fix);
        }
        missing.push(`${id.user} (app ${app})`);
        continue;
      }
      const problem = passwdProblem(entry, id, handle.name);
      if (problem) return fail(problem);
    }
    if (squad.group !== undefined) {
      const groups = [...new Set(ids.map((x) => x.id.group))];
      const g = await handle.host.exec(["getent", "group", "--", ...groups], { timeoutMs: PROBE_TIMEOUT_MS }).catch((e: unknown) => e as Error);
      if (g instanceof Error) return failed(g);
      const found = new Set(g.stdout.split("\n").filter(Boolean).map((line) => line.split(":")[0]));
      const absent = groups.find((n) => !found.has(n));
      if (absent !== undefined) {
        const f = procUserMissing(handle.name, names[0]!, absent, "group");
        return fail(f.problem, f.fix);
      }
    }
    const who = fixed ? `\`${squad.user}\`, shared by every app of the squad` : "each app's own user";
    if (missing.length > 0) {
      return {
        status: "warn",
        detail: `procs run as ${who}; not yet on ${handle.name}: ${missing.join(", ")}`,
        fix: "nothing to do: Raptor creates an app's user when the app first starts on this host",
      };
    }
    return ok(`procs run as ${who}: ${names.join(", ")}`);
  },
};

export const hostChecks: HostCheck[] = [sshCheck, rootCheck, uploadCheck, supervisorCheck, includeCheck, portsCheck, procUserCheck];

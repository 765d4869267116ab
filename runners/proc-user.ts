import type { ErrorCode } from "../lib/error-codes.ts";
import type { Host } from "./host.ts";
import { APP_PLACEHOLDER, DEFAULT_PROC_USER, expandProcUser } from "../lib/proc-user-name.ts";

/**
 * Who an app's procs run as on a host (issue 8: a proc reads nothing of another app). A squad's
 * `user:` is a name or a template with `{app}`; the default `raptor-{app}` gives every app its own
 * user, so app `evil`'s procs can read neither `hello`'s env file (0600, in a 0700 dir) nor its
 * processes' `/proc/<pid>/environ` (the kernel lets only the same uid, or root, read it).
 * A fixed name (`user: app`) is the operator's choice to let the squad's apps share one identity.
 * The rules of the names themselves (templates, lengths) are lib/proc-user-name.ts, which the
 * playbook loader checks at load. Pure, except ensureProcUser.
 */

/** The user (and group) an app's procs, uptests and release hook run as, and whether Raptor owns that user. */
export interface ProcIdentity {
  user: string;
  group: string;
  /**
   * The user came from a `{app}` template: Raptor creates it when missing (ensureProcUser) and
   * only ever uses an existing one that carries `comment`.
   */
  managed: boolean;
  /** The GECOS field Raptor gives a user it creates for the app (`raptor proc user for app hello`). */
  comment: string;
}

/**
 * The identity of `app`'s procs on a squad with `user`/`group` (as in the playbook; `user`
 * absent = DEFAULT_PROC_USER). The group defaults to the user's own group.
 */
export function procIdentity(squad: { user?: string; group?: string }, app: string): ProcIdentity {
  const template = squad.user ?? DEFAULT_PROC_USER;
  const user = expandProcUser(template, app);
  const group = squad.group !== undefined ? expandProcUser(squad.group, app) : user;
  return { user, group, managed: template.includes(APP_PLACEHOLDER), comment: `raptor proc user for app ${app}` };
}

/** A proc user that cannot be used as it is on the host; the message says what to do. */
export class ProcUserError extends Error {
  readonly code = "proc_failed" satisfies ErrorCode;
  constructor(
    message: string,
    readonly host: string,
  ) {
    super(message);
    this.name = "ProcUserError";
  }
}

/**
 * Run as `sh -c ENSURE_USER_SCRIPT sh <user> <comment>` as root: creates the user when missing
 * (system user, no home, no login shell, its own group, or the existing group of that name) and
 * prints its passwd entry. Creations are serialised by a lock in /run (root's, so no other user
 * can hold or replace it) across every Raptor worker on the machine, and the entry is read again
 * after the lock is taken, so two deployments creating the same user at once both succeed.
 */
export const ENSURE_USER_SCRIPT = `set -eu
user=$1 comment=$2
exec 9>>/run/raptor-proc-users.lock
flock -w 60 9
if ! getent passwd -- "$user" >/dev/null; then
  if getent group -- "$user" >/dev/null; then
    useradd --system --gid "$user" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --comment "$comment" -- "$user"
  else
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --comment "$comment" -- "$user"
  fi
fi
getent passwd -- "$user"
`;

/** argv of ENSURE_USER_SCRIPT for `id`; the names travel as arguments, never in the script. */
export function ensureUserArgv(id: ProcIdentity): string[] {
  return ["sh", "-c", ENSURE_USER_SCRIPT, "sh", id.user, id.comment];
}

/**
 * Whether a passwd entry (`name:x:uid:gid:gecos:home:shell`) may run `id`'s procs: not uid 0, and
 * for a managed user, one Raptor made for this app (its comment). undefined when it may, else why
 * not, in a sentence naming `hostName` and the fix.
 */
export function passwdProblem(entry: string, id: ProcIdentity, hostName: string): string | undefined {
  const [, , uid, , gecos] = entry.trim().split(":");
  if (uid === undefined) return `could not read the passwd entry of \`${id.user}\` on ${hostName}`;
  if (uid === "0") return `the proc user \`${id.user}\` on ${hostName} has uid 0: procs never run as root. Remove that user, or give the squad another \`user:\``;
  if (id.managed && gecos !== id.comment) {
    return (
      `the user \`${id.user}\` on ${hostName} exists but Raptor did not create it for this app (its comment is ${JSON.stringify(gecos ?? "")}, ` +
      `not ${JSON.stringify(id.comment)}), so its procs will not run as it: another program or app may use that account. ` +
      `Rename or remove that user, or give the squad a \`user:\` template that makes another name (e.g. \`app-{app}\`)`
    );
  }
  return undefined;
}

const ensured = new WeakMap<Host, Map<string, Promise<void>>>();

/**
 * Makes sure the managed user of `id` exists on `host` (reached as root) and is the one Raptor
 * made for the app; once per Host and user per process (a failure is asked again next time).
 * Throws ProcUserError with the fix. A fixed (unmanaged) user is the operator's: nothing is done.
 */
export function ensureProcUser(host: Host, id: ProcIdentity): Promise<void> {
  if (!id.managed) return Promise.resolve();
  let byUser = ensured.get(host);
  if (!byUser) ensured.set(host, (byUser = new Map()));
  let done = byUser.get(id.user);
  if (!done) {
    done = (async () => {
      const r = await host.exec(ensureUserArgv(id), { timeoutMs: 90_000 });
      if (r.code !== 0) throw new ProcUserError(`could not create the proc user \`${id.user}\` on ${host.name} (exit ${r.code}): ${r.stderr.trim().slice(-500)}`, host.name);
      const problem = passwdProblem(r.stdout, id, host.name);
      if (problem) throw new ProcUserError(problem, host.name);
    })();
    byUser.set(id.user, done);
    done.catch(() => byUser.delete(id.user));
  }
  return done;
}

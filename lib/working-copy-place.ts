import { existsSync, lstatSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";

/**
 * Where a `working_copy: true` app may live, and what it may hold (issue 8, red-team finding 3).
 * A working copy is packed by Raptor (root, on the demo) and unpacked for the app's own user, so
 * it must not let Raptor's rights leak: `repo: /etc` loaded, and a 0600 `rootonly.txt` in the
 * directory became readable by the app. The rules:
 *
 * - the directory (links resolved) is not `/` nor inside a system directory (SYSTEM_DIRS);
 * - it is not inside Raptor's own data (RAPTOR_DATA: the database, its WAL, raptor.log; nor
 *   `$RAPTOR_DATA-demo`, the demo's hosts and balancer) and does not hold it;
 * - it is not world-writable (`/tmp`, `/var/tmp`, a 0777 directory): anyone could add files to it;
 *   and nobody but the operator or root can rename or replace it or a directory above it: no
 *   directory above it is world-writable without the sticky bit, and below a sticky one (`/tmp`,
 *   where only an entry's owner may rename it: unlink(2), "sticky bit") every directory belongs
 *   to the operator or root (`/tmp/theirs/app` is refused; a checkout of one's own in /tmp is not);
 * - it belongs to the operator: the user Raptor runs as, or the one who started it with sudo
 *   (`SUDO_UID`; a checkout cloned as oneself, then `sudo make run`). A directory of another
 *   user is theirs to deploy, not Raptor's to read with root's rights;
 * - it, the directories in it and every file it deploys are readable by others already (dirs
 *   `o+rx`, files `o+r`): a file its owner kept private is not handed to an app user. Files the
 *   directory's `.gitignore` leaves out are not deployed, so not checked.
 *
 * Working copies need not be git work trees (issue 11 item 12: a plain directory is deployed as it is).
 */

/** System directories no working copy may be in (or be): the OS, its config, kernel views, service state. */
export const SYSTEM_DIRS = [
  "/etc", "/proc", "/sys", "/dev", "/boot", "/run", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
  "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/backups", "/var/mail", "/var/run", "/snap",
] as const;

/** How many offending paths a refusal names. */
const NAMED = 5;

/** RAPTOR_DATA as Raptor resolves it (bin/runtime.ts configFromEnv: `.raptor` when unset). */
export function raptorDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.RAPTOR_DATA ?? ".raptor");
}

/**
 * Why `dir` cannot be a working copy's place, or undefined when it can. A directory that does not
 * exist (yet) is judged by its path and the directories above it; the deploy says when it is
 * missing. `uids`: the operator's (default operatorUids()); `dataDir`: RAPTOR_DATA (default
 * raptorDataDir()).
 */
export function workingCopyPlaceProblem(dir: string, uids: readonly number[] = operatorUids(), dataDir: string = raptorDataDir()): string | undefined {
  let real = resolve(dir);
  let exists = true;
  try {
    real = realpathSync(real);
  } catch {
    exists = false;
  }
  const via = real === resolve(dir) ? "" : ` (${dir} leads there)`;
  if (real === "/") return `is the whole file system${via}: a working copy must be an app's own directory`;
  const system = SYSTEM_DIRS.find((s) => real === s || real.startsWith(s + sep));
  if (system) return `is ${real === system ? "" : "inside "}the system directory ${system}${via}: a working copy must be an app's own directory (e.g. under /srv or a home directory), never the system's`;
  const open = openPlaceProblem(real, uids);
  if (open) return `${open}${via}: anyone on this machine could change what it deploys before a deploy; use a directory only its owner can write (e.g. under /srv or a home directory)`;
  for (const data of [dataDir, `${dataDir}-demo`]) {
    const places = new Set([resolve(data), ...(existsSync(data) ? [realpathSync(data)] : [])]);
    for (const d of places) {
      for (const p of new Set([real, resolve(dir)])) {
        if (p === d || p.startsWith(d + sep)) return `is inside Raptor's own data ${d}${via} (RAPTOR_DATA: the database, its log, the demo's hosts): a working copy must be an app's own directory, never Raptor's`;
        if (d.startsWith(p + sep)) return `holds Raptor's own data ${d}${via} (RAPTOR_DATA): deploying it would hand the database to the app; use the app's own directory`;
      }
    }
  }
  if (!exists) return undefined;
  const st = lstatSync(real);
  if (!st.isDirectory()) return `${real} is not a directory`;
  if (!uids.includes(st.uid)) return `${real} belongs to uid ${st.uid}, not to the user Raptor runs as (uid ${uids.join(" or ")}): deploy only your own directories`;
  if ((st.mode & 0o005) !== 0o005) return `${real} is mode ${octal(st.mode)}, private to its owner: a working copy is deployed to other users (each app's own), so it must be readable by others (chmod o+rx)`;
  return undefined;
}

/**
 * Whether others can write `path` (absolute, links resolved) or swap it or a directory above it:
 * `path` world-writable, a world-writable directory above it without the sticky bit, or below a
 * sticky one a directory owned by someone else than the operator (`uids`) or root. A path that does
 * not exist yet is judged by the directories above it that do.
 */
function openPlaceProblem(path: string, uids: readonly number[]): string | undefined {
  let p = path;
  while (p !== "/" && !existsSync(p)) p = dirname(p);
  const chain: string[] = [];
  for (let d = realpathSync(p); ; d = dirname(d)) {
    chain.unshift(d);
    if (d === "/") break;
  }
  let sticky: string | undefined;
  for (const d of chain) {
    const st = statSync(d);
    // The directory itself: its owner is checked by the caller (it must be the operator).
    if (sticky && d !== path && st.uid !== 0 && !uids.includes(st.uid)) return `is inside ${d}, in the world-writable ${sticky}, and ${d} belongs to uid ${st.uid}, who can rename or replace what is in it`;
    if ((st.mode & 0o002) === 0) continue;
    if (d === path) return `is the world-writable directory ${d}`;
    if ((st.mode & 0o1000) === 0) return `is inside the world-writable directory ${d}, which has no sticky bit (anyone can rename or replace what is in it)`;
    sticky = d;
  }
  return undefined;
}

/** The operator's uids: this process's, and `SUDO_UID` when Raptor was started with sudo. */
export function operatorUids(env: NodeJS.ProcessEnv = process.env): number[] {
  const uids = [process.getuid?.() ?? 0];
  if (env.SUDO_UID && /^\d+$/.test(env.SUDO_UID)) uids.push(Number(env.SUDO_UID));
  return uids;
}

/**
 * The deployed paths (relative to `dir`, as `git ls-files` lists them) that their owner kept from
 * other users: files without `o+r`, or inside a directory without `o+x`. Empty when none.
 */
export function privatePaths(dir: string, files: readonly string[]): string[] {
  const out: string[] = [];
  const dirOk = new Map<string, boolean>();
  const reachable = (rel: string): boolean => {
    if (rel === "") return true;
    let ok = dirOk.get(rel);
    if (ok === undefined) {
      const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
      ok = reachable(parent) && (lstatSync(join(dir, rel)).mode & 0o001) !== 0;
      dirOk.set(rel, ok);
    }
    return ok;
  };
  for (const rel of files) {
    let st;
    try {
      st = lstatSync(join(dir, rel));
    } catch {
      continue; // removed since it was listed: not deployed
    }
    const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    if (st.isSymbolicLink()) continue; // git keeps the link, not what it points to
    if (!reachable(parent) || (st.mode & 0o004) === 0) out.push(rel);
  }
  return out;
}

/** The refusal for privatePaths' result, naming up to five paths and the fix. */
export function privatePathsMessage(app: string, dir: string, paths: readonly string[]): string {
  const shown = paths.slice(0, NAMED).map((p) => `${p} (${octal(lstatSync(join(dir, p)).mode)})`);
  const more = paths.length > NAMED ? ` and ${paths.length - NAMED} more` : "";
  return (
    `${app} deploys ${dir} as it is (working_copy: true), and ${paths.length === 1 ? "a file there is" : `${paths.length} files there are`} kept from other users: ${shown.join(", ")}${more}. ` +
    `The app runs as its own user, so Raptor will not hand it files their owner kept private. Make them readable (chmod o+r, and o+x on their directories) or leave them out with .gitignore.`
  );
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

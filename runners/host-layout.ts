import { randomBytes } from "node:crypto";
import { buildTarballPath, expandRoot, procEnv, procPaths, renderEnvFile, renderProcYaml, renderRunScript, renderSettingsYaml, renderSupervisorProgram, UnsafeLayoutError } from "./proc-layout.ts";
import { packTar, type TarEntry } from "./tar-pack.ts";
import type { ProcSpec } from "./process-runner.ts";

/**
 * All of a deployment's procs on one host laid out in ONE remote command (issue 14, fault 2):
 * every file Raptor writes for them travels as one small tar archive on the command's stdin, and
 * a constant script unpacks the build into each proc's directory, puts the files in place and
 * writes the supervisor program files last. Before, each proc cost ~14 remote operations (rm,
 * mkdir, tar, a link sweep, five uploads each with its own `mkdir -p`); now a host costs one.
 *
 * The script is a constant; the root, build, owner, staging dir and proc names travel as its
 * arguments (quoted by remoteCommand), so no user text is ever part of a shell string. Pure except
 * for the staging dir's random suffix.
 */

/**
 * Run as `sh -c LAYOUT_SCRIPT sh <root> <build tarball> <owner user:group | ""> <stage dir> <name>...`
 * with the archive of hostLayout on stdin. For the i-th name the archive holds `<i>/proc.yaml`,
 * `<i>/settings.yaml`, `<i>/env`, `<i>/run.sh` and `<i>/program.conf`.
 *
 * Per proc: the directory is rebuilt from the build; anything the build planted where Raptor
 * writes (`proc.yaml`, `settings.yaml`, `.raptor/env`, `.raptor/run.sh`, a `.raptor` that is a link
 * or not a directory) is removed first, and files are moved with `mv -T` so a planted directory
 * is never written into. With an owner (host reached as root) the proc dir becomes the proc
 * user's, 0700, and builds/supervisor/logs stay root's, 0700. The program files go last, each
 * renamed into place: once one exists its proc is complete on disk. The staging dir (it holds env
 * files, so secrets) is 0700 and removed on every exit.
 */
export const LAYOUT_SCRIPT = `set -eu
root=$1 build=$2 owner=$3 stage=$4
shift 4
trap 'rm -rf -- "$stage"' EXIT
mkdir -p -- "$root/procs" "$root/supervisor" "$root/logs"
if [ -n "$owner" ]; then chmod 0700 -- "$root/builds" "$root/supervisor" "$root/logs"; fi
rm -rf -- "$stage"
(umask 077 && mkdir -- "$stage" && exec tar -xf - -C "$stage" --no-same-owner)
i=0
for name do
  d=$root/procs/$name
  s=$stage/$i
  rm -rf -- "$d"
  mkdir -p -- "$d"
  tar -xzf "$build" -C "$d" --no-same-owner
  cd -- "$d"
  rm -f -- proc.yaml settings.yaml
  if [ -L .raptor ] || { [ -e .raptor ] && [ ! -d .raptor ]; }; then rm -f -- .raptor; fi
  mkdir -p .raptor
  rm -f -- .raptor/env .raptor/run.sh
  cd /
  mv -fT -- "$s/proc.yaml" "$d/proc.yaml"
  mv -fT -- "$s/settings.yaml" "$d/settings.yaml"
  mv -fT -- "$s/env" "$d/.raptor/env"
  mv -fT -- "$s/run.sh" "$d/.raptor/run.sh"
  if [ -n "$owner" ]; then chown -R -h -- "$owner" "$d"; chmod 0700 -- "$d"; fi
  i=$((i + 1))
done
i=0
for name do
  mv -fT -- "$stage/$i/program.conf" "$root/supervisor/$name.conf"
  i=$((i + 1))
done
`;

/** What one host's layout command is: its argv (no secrets: those are in `stdin`) and its stdin. */
export interface HostLayout {
  argv: string[];
  /** The tar archive of every generated file; carries config values, never log or show it. */
  stdin: Buffer;
}

/**
 * The one command that lays out `specs` (all on the same host, same root and build) on host
 * `hostName`. `owner` is the app's `{user, group}` when the host is reached as root (procs then run as that
 * user), undefined otherwise. Throws UnsafeLayoutError for mixed roots/builds or an unsafe name
 * or value (as the per-file renderers do).
 */
export function hostLayout(hostName: string, specs: readonly ProcSpec[], owner: { user: string; group: string } | undefined): HostLayout {
  if (specs.length === 0) throw new UnsafeLayoutError("no procs to lay out");
  const first = specs[0]!;
  const root = expandRoot(first.root, hostName);
  const tarball = buildTarballPath(root, first.build.id);
  const entries: TarEntry[] = [];
  for (const [i, spec] of specs.entries()) {
    if (expandRoot(spec.root, hostName) !== root || spec.build.id !== first.build.id || spec.app !== first.app) {
      throw new UnsafeLayoutError(`procs laid out together must share a root, a build and an app (${spec.name} differs from ${first.name})`);
    }
    const p = procPaths(root, spec.name);
    const env = procEnv({
      hostName: spec.hostName,
      port: spec.port,
      settingsYaml: p.settingsYaml,
      config: spec.config,
      proc: { app: spec.app, env: spec.env, release: spec.release, procType: spec.procType, name: spec.name },
    });
    const procYaml = renderProcYaml({
      port: spec.port,
      host: spec.hostName,
      user: owner?.user,
      group: owner?.group,
      env,
      settings: spec.settings,
      cmd: spec.cmd,
      buildUrl: `file://${tarball}`,
      buildMd5: spec.build.md5,
      procType: spec.procType,
    });
    const program = renderSupervisorProgram({ name: spec.name, command: [p.runScript], directory: p.dir, stdoutLog: p.stdoutLog, user: owner?.user, startSecs: spec.startSecs });
    // proc.yaml, settings and env hold config values (secrets among them): owner-only.
    entries.push(
      { path: `${i}/proc.yaml`, mode: 0o600, body: procYaml },
      { path: `${i}/settings.yaml`, mode: 0o600, body: renderSettingsYaml(spec.settings) },
      { path: `${i}/env`, mode: 0o600, body: renderEnvFile(env) },
      { path: `${i}/run.sh`, mode: 0o700, body: renderRunScript({ dir: p.dir, envFile: p.envFile, cmd: spec.cmd }) },
      { path: `${i}/program.conf`, mode: 0o600, body: program },
    );
  }
  const stage = `${root}/.layout-${randomBytes(6).toString("hex")}`;
  const ownerArg = owner ? `${owner.user}:${owner.group}` : "";
  return { argv: ["sh", "-c", LAYOUT_SCRIPT, "sh", root, tarball, ownerArg, stage, ...specs.map((s) => s.name)], stdin: packTar(entries) };
}

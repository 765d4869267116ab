import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

/**
 * Runs argv as `nobody` (setpriv, no supplementary groups): the stand-in for another app's proc,
 * or any other user on the same machine. Returns the exit code and stdout+stderr; never throws
 * for a non-zero exit.
 */
export async function asNobody(argv: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec("setpriv", ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--", ...argv]);
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/**
 * The build size limit (red team M6: a 1.4 MB repo of zeros unpacked to 1 GB in the worker's data
 * dir, then 1 GB per proc on every host). Checked twice, before anything grows on disk where it
 * can be stopped: the commit's tree before it is checked out (the sum of its blob sizes, read from
 * git without unpacking), and the build directory after compile, before it is archived and sent
 * to hosts (its apparent size, so a sparse file counts at the size `tar -x` writes on a host).
 *
 * Default 1 GiB (lib/byte-size.ts DEFAULT_MAX_BUILD_BYTES): well above a large app with its
 * dependencies (Heroku refuses compressed slugs over 500 MB, which unpack to roughly 1-2x), and
 * small enough that a few deploys of a bad commit do not fill the disk under RAPTOR_DATA.
 * `RAPTOR_MAX_BUILD_SIZE` changes it.
 */
import { bytesText } from "../../lib/byte-size.ts";
import { BuildError } from "./build-error.ts";
import { runOk } from "./exec.ts";

/** The environment variable that sets the limit, named in every refusal. */
export const MAX_BUILD_SIZE_VAR = "RAPTOR_MAX_BUILD_SIZE";

/**
 * Total bytes of the blobs in `git ls-tree -r -l -z` output (pure): files and symlinks; submodule
 * entries (size `-`) are not exported by `git archive` and count 0.
 */
export function treeBytes(lsTree: string): number {
  let total = 0;
  for (const entry of lsTree.split("\0")) {
    // <mode> SP <type> SP <object> SP+ <size> TAB <path>
    const m = /^\d+ blob [0-9a-f]+ +(\d+)\t/.exec(entry);
    if (m) total += Number(m[1]);
  }
  return total;
}

/** Apparent size in bytes of a directory tree (`du -s -b -P`: symlinks not followed, sparse files at full size). */
export async function dirBytes(dir: string): Promise<number> {
  const out = await runOk(["du", "-s", "-b", "-P", "--", dir], { timeoutMs: 5 * 60_000 });
  const n = Number(out.split("\t")[0]);
  if (!Number.isFinite(n)) throw new BuildError("internal", `du gave no size for the build directory: ${out.slice(0, 200)}`);
  return n;
}

/** The refusal of a checkout (`what` = "the checkout of abc1234") or a build over the limit: size, limit, fix. */
export function tooLargeError(what: string, bytes: number, limit: number): BuildError {
  return new BuildError(
    "build_failed",
    `${what} is ${bytesText(bytes)}, over the build size limit of ${bytesText(limit)} (${MAX_BUILD_SIZE_VAR}); ` +
      `every proc gets its own unpacked copy on its host. Remove large files from the repo or the build, or raise ${MAX_BUILD_SIZE_VAR}`,
  );
}

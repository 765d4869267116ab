import { lstat, open, realpath } from "node:fs/promises";
import { constants } from "node:fs";
import { join, sep } from "node:path";
import { BuildError } from "./build-error.ts";

/** Files Raptor reads from a build are small; anything larger is refused unread. */
export const TREE_READ_LIMIT = 1024 * 1024;

/**
 * Reads `rel` (e.g. `Procfile`) from inside `root` (a checkout or build written by app code),
 * refusing anything that would make Raptor read outside it: a link whose target lies outside the
 * tree, a link in a parent directory leading out, a FIFO or device, a file over 1 MiB. Links that
 * stay inside the tree are followed. Returns undefined when the file does not exist. Errors name
 * the file and the reason, never its content or the link's target.
 */
export async function readInTree(root: string, rel: string): Promise<string | undefined> {
  const path = join(root, rel);
  try {
    await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new BuildError("build_failed", `${rel} is a link to nothing inside the app: not read`);
  }
  if (!real.startsWith(realRoot + sep)) {
    throw new BuildError("build_failed", `${rel} is a link to a file outside the app: Raptor reads only files inside the repo (not read)`);
  }
  // O_NOFOLLOW on the resolved path: it was swapped for a link in between only if app code still runs.
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BuildError("build_failed", `${rel} is not a regular file: not read`);
    if (st.size > TREE_READ_LIMIT) throw new BuildError("build_failed", `${rel} is larger than 1 MiB: not read`);
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}

import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * Builds Raptor into a fresh directory under .raptor/ (scripts/build.sh), removed when this
 * process exits, and returns its bin/raptor.js: benchmarks run Raptor's processes compiled, as
 * production does (issue 14, fault 6), so tsx's start-up and memory are not in their figures.
 */
export async function compiledRaptor(): Promise<string> {
  // Inside the project (git-ignored .raptor/), so the output resolves the project's node_modules.
  await mkdir(join(ROOT, ".raptor"), { recursive: true, mode: 0o700 });
  const out = await mkdtemp(join(ROOT, ".raptor", "bench-dist-"));
  process.once("exit", () => rmSync(out, { recursive: true, force: true }));
  await promisify(execFile)(resolve(ROOT, "scripts/build.sh"), [out], { cwd: ROOT });
  return join(out, "bin", "raptor.js");
}

import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const STOP = resolve(import.meta.dirname, "../../scripts/stop.sh");

/** A process standing in for one `make run` started (Raptor, supervisord): it dies on SIGTERM. */
function standIn(): { pid: number; gone: () => boolean; exited: Promise<void> } {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  let gone = false;
  const exited = new Promise<void>((done) => child.once("exit", () => ((gone = true), done())));
  return { pid: child.pid!, gone: () => gone, exited };
}

/**
 * New-user trial: Ctrl-C of `make run 2>&1 | tee log` left the demo's daemons running. The same
 * Ctrl-C ends tee, so scripts/stop.sh (run by make run's exit trap) wrote its first line into a
 * pipe nobody reads and died of SIGPIPE before it stopped supervisord and nginx.
 */
describe("scripts/stop.sh with its output going nowhere", () => {
  it("stops Raptor and supervisord even when its stdout is a closed pipe", async () => {
    const data = await mkdtemp(join(tmpdir(), "raptor-stop-"));
    const raptor = standIn();
    const sup = standIn();
    try {
      await mkdir(join(data, "supervisord"), { recursive: true });
      await writeFile(join(data, "run.pid"), `${raptor.pid}\n`);
      await writeFile(join(data, "supervisord", "supervisord.pid"), `${sup.pid}\n`);
      const code = await new Promise<number | string>((done) => {
        const child = spawn(STOP, [], { env: { ...process.env, RAPTOR_DATA: data }, stdio: ["ignore", "pipe", "pipe"] });
        // The reader is gone before stop.sh writes its first line, as tee is after Ctrl-C.
        child.stdout.destroy();
        child.stderr.destroy();
        child.once("exit", (c, signal) => done(signal ?? c ?? -1));
      });
      // stop.sh returns once each is gone; their exit events may trail by a moment (deadline 5 s).
      await Promise.race([Promise.all([raptor.exited, sup.exited]), new Promise((r) => setTimeout(r, 5000))]);
      expect({ code, raptorStopped: raptor.gone(), supervisordStopped: sup.gone() }).toEqual({ code: 0, raptorStopped: true, supervisordStopped: true });
    } finally {
      for (const p of [raptor.pid, sup.pid]) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // already gone: what the test wants
        }
      }
      await rm(data, { recursive: true, force: true });
    }
  }, 30_000);
});

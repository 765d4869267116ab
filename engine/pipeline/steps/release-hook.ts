import { asProcUser } from "../../../runners/process-runner.ts";
import { procPaths, withEnvFile } from "../../../runners/proc-layout.ts";
import { EngineError } from "../../errors.ts";
import { hostHandle } from "../../fleet.ts";
import type { Step } from "../step.ts";
import { ownProcs, targetRelease } from "../swarm.ts";

const HOOK_TIMEOUT_MS = 10 * 60_000;

/** The release hook (migrations, say) runs once, in a new proc's directory and environment, before routing. */
export const releaseHookStep: Step = {
  name: "release_hook",
  async run(ctx) {
    const argv = ctx.environment.release_hook;
    if (!argv?.length) return { summary: "no hook" };
    // A deploy of what already serves cuts no release and starts no proc: the hook ran when that
    // release was cut, and running it again would have nowhere new to run.
    if ((ctx.results.release as { unchanged?: boolean } | undefined)?.unchanged) return { summary: "not run: this release already serves, its hook ran when it was cut" };
    const release = await targetRelease(ctx);
    const mine = await ownProcs(ctx, release);
    const proc = mine[0];
    if (!proc) throw new EngineError("invalid", "there is no new proc to run the release hook in");
    const h = hostHandle(ctx.deps, ctx.squad, proc.host);
    const paths = procPaths(h.root, proc.name);
    // The proc's env file (written by start) holds the release's config: nothing secret on the command line.
    // The hook is app code: it runs with the proc's rights (its user), not the SSH user's.
    const r = await h.host.exec(await asProcUser(h.host, { ...ctx.squad, app: ctx.app.name }, withEnvFile(paths.envFile, argv)), { cwd: paths.dir, timeoutMs: HOOK_TIMEOUT_MS });
    const output = ctx.redact(`${r.stdout}${r.stderr}`.split("\n").slice(-40).join("\n"));
    if (r.code !== 0) throw new EngineError("hook_failed", `the release hook \`${argv.join(" ")}\` exited with ${r.code} on ${proc.host}.`, { output });
    if (output.trim()) await ctx.log("release hook output", output);
    return { result: { host: proc.host }, summary: `${argv.join(" ")} (${Math.round(r.durationMs)} ms)` };
  },
};

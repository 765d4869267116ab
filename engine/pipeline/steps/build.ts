import { eq } from "drizzle-orm";
import { deployments } from "../../../db/schema/index.ts";
import { ensureBuild } from "../../build/build.ts";
import { tailLines } from "../../build/errors.ts";
import type { Step } from "../step.ts";

const LOG_TAIL = 40;

/** Builds the commit, or reuses the build of the same app + commit + buildpack. */
export const buildStep: Step = {
  name: "build",
  async run(ctx) {
    const { deps, deployment: d } = ctx;
    const commit = String(ctx.results.resolve?.commit ?? d.commit);
    const lines: string[] = [];
    let lastProgress = 0;
    const { build, reused } = await ensureBuild({
      db: deps.db,
      app: d.app,
      repo: ctx.app.repo,
      commit,
      buildpack: ctx.app.buildpack,
      dataDir: deps.dataDir,
      onLog: (line) => {
        lines.push(line);
        // A heartbeat for long builds, at most every 5 s, so the thread shows it is alive.
        if (Date.now() - lastProgress > 5_000) {
          lastProgress = Date.now();
          void ctx.progress(`building: ${ctx.redact(line).slice(0, 200)}`).catch(() => {});
        }
      },
    });
    await deps.db.update(deployments).set({ buildId: build.id }).where(eq(deployments.id, d.id));
    if (!reused && lines.length) await ctx.log("build log (tail)", tailLines(lines, LOG_TAIL).join("\n"));
    const short = build.id.slice(0, 8);
    return {
      result: { buildId: build.id, reused, buildpack: build.detected ?? build.buildpack },
      summary: reused ? `reused build ${short}` : `built ${short} with ${build.detected ?? build.buildpack}`,
    };
  },
};

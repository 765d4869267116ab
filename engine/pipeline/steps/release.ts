import { createHash } from "node:crypto";
import { and, desc, eq, isNotNull, max } from "drizzle-orm";
import type { Db } from "../../../db/client.ts";
import { builds, configVars, deployments, releases } from "../../../db/schema/index.ts";
import { configFor } from "../../../playbooks/resolve.ts";
import { layerConfig } from "../../config-layers.ts";
import { EngineError } from "../../errors.ts";
import { currentRelease, releaseById, releaseByNumber } from "../../state.ts";
import type { ReleaseRow } from "../../../db/schema/index.ts";
import type { Step, StepContext } from "../step.ts";

/**
 * Freezes build + config as the next release number. Deploy: the new build with today's config.
 * Config change: the current build with the changed config. Rollback: an older release's build and
 * config, under a new number. Re-running after a crash finds the release already cut.
 */
export const releaseStep: Step = {
  name: "release",
  async run(ctx) {
    const { deps, deployment: d } = ctx;
    if (d.toReleaseId) {
      const existing = await releaseById(deps.db, d.toReleaseId);
      if (existing) return { result: { releaseId: existing.id, number: existing.number }, summary: `v${existing.number}` };
    }
    const cut = await planRelease(ctx);
    // Deploying exactly what already serves (same build, same config) cuts no new release: the
    // pipeline then only tops up missing procs and checks routing (Velociraptor's "fulfilled").
    const current = d.kind === "deploy" ? await currentRelease(deps.db, d.app, d.env) : undefined;
    if (current && current.hash === releaseHash(cut)) {
      await deps.db.update(deployments).set({ toReleaseId: current.id }).where(eq(deployments.id, d.id));
      return { result: { releaseId: current.id, number: current.number, unchanged: true }, summary: `v${current.number} already serves this build and config` };
    }
    const release = await insertRelease(deps.db, { ...cut, app: d.app, env: d.env, createdBy: d.requestedBy });
    await deps.db.update(deployments).set({ toReleaseId: release.id }).where(eq(deployments.id, d.id));
    return { result: { releaseId: release.id, number: release.number }, summary: `v${release.number} (${cut.description})` };
  },
};

interface ReleaseCut {
  buildId: string;
  config: Record<string, string>;
  settings: Record<string, unknown>;
  description: string;
}

async function planRelease(ctx: StepContext): Promise<ReleaseCut> {
  const { deps, deployment: d } = ctx;
  if (d.kind === "rollback") {
    const target = await rollbackTarget(deps.db, d.app, d.env, d.params.release);
    return { buildId: target.buildId, config: target.config, settings: target.settings, description: `rollback to v${target.number}` };
  }
  let buildId: string;
  if (d.kind === "config") {
    const current = await currentRelease(deps.db, d.app, d.env);
    if (!current) throw new EngineError("not_found", `${d.app} has never been deployed to ${d.env}; deploy it before changing its config.`);
    buildId = current.buildId;
  } else {
    buildId = String(ctx.results.build?.buildId ?? d.buildId);
  }
  const [build] = await deps.db.select().from(builds).where(eq(builds.id, buildId));
  if (!build) throw new EngineError("internal", `build ${buildId} is missing`);
  const base = configFor(deps.playbook, d.app, d.env);
  const overrides = await deps.db.select().from(configVars).where(and(eq(configVars.app, d.app), eq(configVars.env, d.env)));
  const config = layerConfig(build.configVars ?? {}, base.env, Object.fromEntries(overrides.map((o) => [o.key, o.value])));
  // A config change is released with its values on top; they are stored in config_vars only
  // once the deployment succeeds (run.ts), so a failed change is not picked up by later deploys.
  if (d.kind === "config") {
    Object.assign(config, d.params.vars ?? {});
    for (const key of d.params.keys ?? []) delete config[key];
  }
  const description =
    d.kind === "config"
      ? [d.params.vars && `set ${Object.keys(d.params.vars).join(", ")}`, d.params.keys?.length && `unset ${d.params.keys.join(", ")}`].filter(Boolean).join("; ")
      : `deploy ${String(ctx.results.resolve?.shortSha ?? d.commit?.slice(0, 7) ?? "")}`.trim();
  return { buildId, config, settings: base.settings, description };
}

/** The release to go back to: the one asked for, or the one that served before the current one. */
export async function rollbackTarget(db: Db, app: string, env: string, number?: number): Promise<ReleaseRow> {
  if (number !== undefined) {
    const r = await releaseByNumber(db, app, env, number);
    if (!r) throw new EngineError("not_found", `${app} ${env} has no release v${number}. \`releases ${app} ${env}\` lists them.`);
    return r;
  }
  const current = await currentRelease(db, app, env);
  const served = await db
    .select({ release: releases })
    .from(deployments)
    .innerJoin(releases, eq(releases.id, deployments.toReleaseId))
    .where(and(eq(deployments.app, app), eq(deployments.env, env), eq(deployments.status, "succeeded"), isNotNull(deployments.toReleaseId)))
    .orderBy(desc(deployments.finishedAt));
  const previous = served.map((s) => s.release).find((r) => r.id !== current?.id && r.buildId + JSON.stringify(r.config) !== (current ? current.buildId + JSON.stringify(current.config) : ""));
  if (!previous) throw new EngineError("not_found", `${app} ${env} has no earlier successful release to roll back to.`);
  return previous;
}

/** Identifies a release's content: two releases with the same hash run the same thing. */
export function releaseHash(r: Pick<ReleaseCut, "buildId" | "config" | "settings">): string {
  return createHash("sha1")
    .update(r.buildId)
    .update(JSON.stringify(Object.entries(r.config).sort()))
    .update(JSON.stringify(r.settings))
    .digest("hex")
    .slice(0, 8);
}

async function insertRelease(db: Db, r: ReleaseCut & { app: string; env: string; createdBy: string }): Promise<ReleaseRow> {
  const hash = releaseHash(r);
  // Two workers could cut a release for the same app+env at once only across different
  // deployments, which the per-app+env line forbids; the unique index still guards the number.
  for (let attempt = 0; ; attempt++) {
    const [{ n } = { n: 0 }] = await db.select({ n: max(releases.number) }).from(releases).where(and(eq(releases.app, r.app), eq(releases.env, r.env)));
    try {
      const [row] = await db
        .insert(releases)
        .values({ app: r.app, env: r.env, number: (n ?? 0) + 1, buildId: r.buildId, config: r.config, settings: r.settings, hash, createdBy: r.createdBy, description: r.description })
        .returning();
      return row!;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

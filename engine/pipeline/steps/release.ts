import { createHash } from "node:crypto";
import type { Db } from "../../../db/client.ts";
import { getBuild } from "../../../db/queries/builds.ts";
import { configVarsOf } from "../../../db/queries/config-vars.ts";
import { updateDeployment } from "../../../db/queries/deployments.ts";
import { configFor } from "../../../playbooks/resolve.ts";
import { layerConfig, setOwn } from "../../config-layers.ts";
import { EngineError } from "../../errors.ts";
import { currentRelease, insertNextRelease, latestReleases, releaseById, releaseByNumber, servedReleases } from "../../../db/queries/releases.ts";
import type { ReleaseRow } from "../../../db/schema/index.ts";
import type { Step, StepContext } from "../step.ts";
import { releaseChanges } from "../../changes/describe.ts";
import { sourceRepo } from "../../builds/working-copy.ts";

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
    const reusable = d.kind === "deploy" || d.kind === "config";
    const current = reusable ? await currentRelease(deps.db, d.app, d.env) : undefined;
    const hash = releaseHash(cut);
    if (current && current.hash === hash) {
      await updateDeployment(deps.db, d.id, { toReleaseId: current.id });
      return { result: { releaseId: current.id, number: current.number, unchanged: true }, summary: `v${current.number} already serves this build and config` };
    }
    // Two deploys of the same build and config cut one release: the newest release, if it holds
    // exactly this (cut by a deploy that then failed or was cancelled), is shipped again.
    const [newest] = reusable ? await latestReleases(deps.db, d.app, d.env, 1) : [];
    if (newest && newest.hash === hash && newest.id !== current?.id) {
      await updateDeployment(deps.db, d.id, { toReleaseId: newest.id });
      await ctx.emit(await releaseChanges(deps, sourceRepo(ctx.app, deps.dataDir), current ?? (await currentRelease(deps.db, d.app, d.env)), newest, d.params.secretKeys));
      return { result: { releaseId: newest.id, number: newest.number }, summary: `v${newest.number} (the same build and config, not yet served)` };
    }
    const release = await insertRelease(deps.db, { ...cut, app: d.app, env: d.env, createdBy: d.requestedBy });
    await updateDeployment(deps.db, d.id, { toReleaseId: release.id });
    await ctx.emit(await releaseChanges(deps, sourceRepo(ctx.app, deps.dataDir), current ?? (await currentRelease(deps.db, d.app, d.env)), release, d.params.secretKeys));
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
  const build = await getBuild(deps.db, buildId);
  if (!build) throw new EngineError("internal", `build ${buildId} is missing`);
  const base = configFor(deps.playbook, d.app, d.env);
  const overrides = await configVarsOf(deps.db, d.app, d.env);
  const config = layerConfig(build.configVars ?? {}, base.env, Object.fromEntries(overrides.map((o) => [o.key, o.value])));
  // A config change is released with its values on top; they are stored in config_vars only
  // once the deployment succeeds (run.ts), so a failed change is not picked up by later deploys.
  if (d.kind === "config") {
    for (const [key, value] of Object.entries(d.params.vars ?? {})) setOwn(config, key, value);
    for (const key of d.params.keys ?? []) delete config[key];
  }
  const description =
    d.kind === "config"
      ? [d.params.vars && `set ${Object.keys(d.params.vars).join(", ")}`, d.params.keys?.length && `unset ${d.params.keys.join(", ")}`].filter(Boolean).join("; ")
      : d.params.promote
        ? `promote ${d.params.promote.env} v${d.params.promote.release} (${d.params.promote.commit.slice(0, 7)})`
        : `deploy ${String(ctx.results.resolve?.shortSha ?? d.commit?.slice(0, 7) ?? "")}`.trim();
  return { buildId, config, settings: base.settings, description };
}

/**
 * The release to go back to: the one asked for, or the one that served before the current one.
 * Throws `not_found` when there is none, or when the beat's prune job deleted its build (the
 * message says so and gives the `deploy` of its commit that builds it again).
 */
export async function rollbackTarget(db: Db, app: string, env: string, number?: number): Promise<ReleaseRow> {
  if (number !== undefined) {
    const r = await releaseByNumber(db, app, env, number);
    if (!r) throw new EngineError("not_found", `${app} ${env} has no release v${number}. \`releases ${app} ${env}\` lists them.`);
    return notPruned(db, r);
  }
  const current = await currentRelease(db, app, env);
  const served = await servedReleases(db, app, env);
  const previous = served.find((r) => r.id !== current?.id && r.buildId + JSON.stringify(r.config) !== (current ? current.buildId + JSON.stringify(current.config) : ""));
  if (!previous) throw new EngineError("not_found", `${app} ${env} has no earlier successful release to roll back to.`);
  return notPruned(db, previous);
}

async function notPruned(db: Db, r: ReleaseRow): Promise<ReleaseRow> {
  const build = await getBuild(db, r.buildId);
  if (build?.prunedAt) throw new EngineError("not_found", prunedRollbackMessage(r, build));
  return r;
}

/** What `rollback` to a release whose build was pruned says: what happened and the command that brings it back. */
export function prunedRollbackMessage(r: Pick<ReleaseRow, "app" | "env" | "number">, build: { commit: string; prunedAt: Date | null }): string {
  const sha = build.commit.slice(0, 7);
  const when = build.prunedAt ? ` on ${build.prunedAt.toISOString().slice(0, 10)}` : "";
  return (
    `cannot roll ${r.app} ${r.env} back to v${r.number}: its build (commit ${sha}) was pruned${when} by the beat's prune job, which keeps only recent builds and rollback targets. ` +
    `Deploy that commit again to build it anew: \`deploy ${r.app} ${r.env} ${sha}\`.`
  );
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
  return insertNextRelease(db, { app: r.app, env: r.env, buildId: r.buildId, config: r.config, settings: r.settings, hash: releaseHash(r), createdBy: r.createdBy, description: r.description });
}

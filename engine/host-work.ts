import { supervisorFinding } from "../runners/host-readiness.ts";
import { sourceRepo } from "./builds/working-copy.ts";
import { SupervisorError } from "../runners/supervisor/xmlrpc-client.ts";
import { environmentOf } from "../playbooks/resolve.ts";
import { buildOrReuse } from "./builds/build-or-reuse.ts";
import { tailLines } from "./builds/build-error.ts";
import type { EngineDeps } from "./context.ts";
import { EngineError } from "./errors.ts";
import { emit } from "./events.ts";
import { hostHandle, runner } from "./fleet.ts";
import { buildOf, specFor } from "./proc-spec.ts";
import type { BuildJobResult, JobData } from "./queues.ts";
import { redactorFor } from "./redact.ts";
import { deploymentById } from "../db/queries/deployments.ts";
import { releaseById } from "../db/queries/releases.ts";
import { liveProcsOfDeployment } from "../db/queries/procs.ts";

const BUILD_LOG_TAIL = 40;

/**
 * One host's share of a deployment's start step (a `procs` job): upload the build once, then lay
 * out and start this deployment's procs placed on the host. Idempotent, like the step: a proc
 * already running is left alone, an upload already there is skipped.
 */
export async function startOnHost(deps: EngineDeps, data: JobData<"procs">): Promise<{ started: number }> {
  const d = await deploymentById(deps.db, data.deploymentId);
  if (!d?.toReleaseId) throw new EngineError("invalid", `deployment ${data.deploymentId} has no release to start`);
  const found = environmentOf(deps.playbook, d.app, d.env);
  if (!found) throw new EngineError("not_found", `${d.app} ${d.env} is no longer in the playbook`);
  const squad = deps.playbook.squads[found.environment.squad]!;
  const release = (await releaseById(deps.db, d.toReleaseId))!;
  let build = await buildOf(deps.db, release);
  const mine = await liveProcsOfDeployment(deps.db, d.id, data.host);
  if (mine.length === 0) return { started: 0 };
  // From the build store: a worker that did not build it fetches it (S3) or finds it (a shared directory).
  let local = await deps.builds.fetch(build.id, build.md5!);
  if (!local) {
    // Not in the store (a directory store that is not shared, or a store that lost it): build
    // the same commit again here, into the same build row, rather than fail.
    const again = await buildOrReuse({ redact: await redactorFor(deps), db: deps.db, app: build.app, repo: sourceRepo(found.app, deps.dataDir), commit: build.commit, buildpack: build.buildpack === "auto" ? undefined : build.buildpack, dataDir: deps.dataDir, store: deps.builds, maxBytes: deps.options.maxBuildBytes });
    build = again.build;
    local = build.md5 ? await deps.builds.fetch(build.id, build.md5) : undefined;
    if (!local) {
      throw new EngineError("build_missing", `build ${build.id.slice(0, 8)} of v${release.number} is not in the build store (${deps.builds.where}).`);
    }
  }
  const h = hostHandle(deps, squad, data.host);
  const { uploaded } = await runner.uploadBuild(h.host, { buildId: build.id, md5: build.md5!, localPath: local, root: squad.root });
  if (uploaded) {
    const redact = await redactorFor(deps, d.app, d.env);
    await emit(deps, d.id, { type: "step.progress", step: "start", message: `uploaded build to ${data.host}` }, redact);
  }
  // All of the host's procs in one layout command and one reloadConfig (issue 14, fault 2).
  await runner.startProcs(h.host, h.supervisor, mine.map((p) => specFor(p, release, build, squad, found.environment))).catch((err: unknown) => {
    // Credentials refused, nothing listening, no answer: the same words and fix as `hosts check`.
    if (err instanceof SupervisorError && err.failure) {
      const f = supervisorFinding(err, data.host);
      throw new EngineError("supervisor_failed", `${f.problem}. Fix: ${f.fix}`, { host: data.host });
    }
    throw err;
  });
  return { started: mine.length };
}

/**
 * A `builds` job: buildOrReuse on whichever worker took it. The deployment that asked first gets
 * a heartbeat in its thread while the build runs; every waiter gets the log tail in the result.
 */
export async function runBuildJob(deps: EngineDeps, data: JobData<"builds">): Promise<BuildJobResult> {
  const lines: string[] = [];
  let lastBeat = 0;
  const redact = await redactorFor(deps, data.app, "");
  const { build, reused } = await buildOrReuse({
    redact,
    db: deps.db,
    app: data.app,
    repo: data.repo,
    commit: data.commit,
    buildpack: data.buildpack,
    dataDir: deps.dataDir,
    store: deps.builds,
    maxBytes: deps.options.maxBuildBytes,
    onLog: (line) => {
      lines.push(line);
      // A heartbeat for long builds, at most every 5 s, so the thread shows it is alive.
      if (Date.now() - lastBeat > 5_000) {
        lastBeat = Date.now();
        void emit(deps, data.deploymentId, { type: "step.progress", step: "build", message: `building: ${line.slice(0, 200)}` }, redact).catch(() => {});
      }
    },
  });
  return { buildId: build.id, reused, buildpack: build.detected ?? build.buildpack, logTail: tailLines(lines, BUILD_LOG_TAIL) };
}

import type { Db } from "../db/client.ts";
import type { BuildRow } from "../db/schema/index.ts";
import { getBuild } from "../db/queries/builds.ts";
import type { ProcSpec } from "../runners/process-runner.ts";
import type { Environment, Squad } from "../playbooks/types.ts";
import { EngineError } from "./errors.ts";
import type { ProcRow, ReleaseRow } from "../db/schema/index.ts";

export async function buildOf(db: Db, release: ReleaseRow): Promise<BuildRow> {
  const build = await getBuild(db, release.buildId);
  if (!build || !build.path || !build.md5) throw new EngineError("internal", `build ${release.buildId} of v${release.number} is missing or incomplete`);
  return build;
}

/** The runner's view of a proc row: what to lay out and run. */
export function specFor(row: ProcRow, release: ReleaseRow, build: BuildRow, squad: Squad, environment: Pick<Environment, "startsecs">): ProcSpec {
  const cmd = build.procfile?.[row.procType];
  if (!cmd) throw new EngineError("invalid", `the Procfile of v${release.number} has no \`${row.procType}\` proc type`);
  return {
    name: row.name,
    app: row.app,
    env: row.env,
    procType: row.procType,
    release: release.number,
    port: row.port ?? undefined,
    hostName: row.host,
    root: squad.root,
    build: { id: build.id, md5: build.md5! },
    cmd,
    config: release.config,
    settings: release.settings,
    startSecs: environment.startsecs,
    // The squad's setting (a name or a `{app}` template); procOwner expands it for this app.
    user: squad.user,
    group: squad.group,
  };
}

/**
 * `apps:` — code repositories with a Procfile. Proc types come from the Procfile and uptests from
 * the repo's `uptests/<proc>/`; the playbook says where and how each environment runs them.
 */
import { z } from "zod";
import type { App, Environment } from "../types.ts";
import { environmentKey, nonEmptyString, strict, type IssueParams } from "./common.ts";
import { environmentSchema, listenList, type EnvironmentDraft } from "./environments.ts";
import { isRemoteRepo } from "./assemble.ts";

/** Output before the loader fills in names and resolves a relative `repo`. */
export interface AppDraft extends Omit<App, "name" | "environments"> {
  environments: Record<string, EnvironmentDraft>;
  /** The app's default `listen` for environments that do not set their own. */
  listen?: string[];
}

export const appSchema = strict({
  repo: nonEmptyString("must be a git URL or a local path"),
  buildpack: nonEmptyString("must be a buildpack name or path").optional(),
  listen: listenList.optional(),
  environments: z
    .record(environmentKey, environmentSchema, { error: "must map environment names to environments" })
    .refine((envs) => Object.keys(envs).length > 0, { error: "must declare at least one environment" }),
  /** What `deploy <app>` (no environment) means; an app with one environment needs none. */
  default_environment: environmentKey.optional(),
  /** `repo` is a local directory deployed as its files are at each deploy, edits included (engine/builds/working-copy.ts). */
  working_copy: z.boolean({ error: "must be true or false" }).optional(),
})
  .superRefine((a, ctx) => {
    if (a.working_copy && isRemoteRepo(a.repo)) {
      ctx.addIssue({ code: "custom", path: ["working_copy"], params: { complete: true } satisfies IssueParams, message: `needs a local directory as repo, not the URL ${a.repo}: a remote repo is deployed from its commits` });
    }
    const d = a.default_environment;
    if (d === undefined || Object.hasOwn(a.environments, d)) return;
    const params: IssueParams = { complete: true };
    ctx.addIssue({ code: "custom", path: ["default_environment"], params, message: `names "${d}", which is not one of this app's environments (${Object.keys(a.environments).sort().join(", ")})` });
  })
  .transform((a): AppDraft => {
    const out: AppDraft = { repo: a.repo, environments: a.environments };
    if (a.buildpack !== undefined) out.buildpack = a.buildpack;
    if (a.listen !== undefined) out.listen = a.listen;
    if (a.default_environment !== undefined) out.default_environment = a.default_environment;
    if (a.working_copy) out.working_copy = true;
    return out;
  });

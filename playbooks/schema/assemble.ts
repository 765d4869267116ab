/** The validated entries of every file -> one `Playbook`, with names filled in and paths resolved. */
import path from "node:path";
import type { App, BalancerConfig, BeatSettings, Environment, Ingredient, Playbook, Squad } from "../types.ts";
import { DEFAULT_BEAT } from "./beat.ts";
import type { AppDraft } from "./apps.ts";
import { DEFAULT_LISTEN } from "./environments.ts";
import type { Located } from "./references.ts";
import { secretValues } from "../../lib/redact.ts";

export interface Entries {
  squads: Located<unknown>[];
  balancers: Located<unknown>[];
  ingredients: Located<unknown>[];
  apps: Located<unknown>[];
}

/** A git URL (`https://`, `ssh://`, `git@host:repo`) rather than a local path. */
export function isRemoteRepo(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\s:]+@[^/\s:]+:/.test(repo);
}

/**
 * `secrets` are the values substituted from the environment; values written in the playbook under
 * a secret-looking key (`API_TOKEN: abc`) or carrying a password (`postgres://u:pw@db`) join them.
 */
export function assemble(entries: Entries, substituted: string[], beat: Partial<BeatSettings> = {}): Playbook {
  const secrets = [...substituted];
  const squads: Record<string, Squad> = {};
  for (const { name, value } of entries.squads as Located<Omit<Squad, "name">>[]) {
    // A local squad's relative root is taken from where Raptor runs (RAPTOR_DATA defaults to `.raptor`).
    const root = value.transport === "local" && !path.isAbsolute(value.root) ? path.resolve(value.root) : value.root;
    squads[name] = { name, ...value, root };
  }
  const balancers: Record<string, BalancerConfig> = {};
  for (const { name, value } of entries.balancers as Located<Omit<BalancerConfig, "name">>[]) balancers[name] = { name, ...value };
  const ingredients: Record<string, Ingredient> = {};
  for (const { name, value } of entries.ingredients as Located<Omit<Ingredient, "name">>[]) ingredients[name] = { name, ...value };
  for (const i of Object.values(ingredients)) secrets.push(...secretValues(i.env));

  const apps: Record<string, App> = {};
  for (const { name, file, value } of entries.apps as Located<AppDraft>[]) {
    const environments: Record<string, Environment> = {};
    for (const [envName, env] of Object.entries(value.environments)) {
      // `listen`: the environment's, else the app's, else [web].
      const environment: Environment = { name: envName, app: name, ...env, listen: env.listen ?? value.listen ?? DEFAULT_LISTEN };
      // A balancer with no pool named routes to `<app>_<env>`.
      if (environment.balancer !== undefined && environment.pool === undefined) environment.pool = `${name}_${envName}`;
      environments[envName] = environment;
      secrets.push(...secretValues(environment.env));
    }
    const repo = isRemoteRepo(value.repo) || path.isAbsolute(value.repo) ? value.repo : path.resolve(path.dirname(file), value.repo);
    const { listen: _appListen, ...rest } = value;
    apps[name] = { name, ...rest, repo, environments };
  }
  return { squads, balancers, ingredients, apps, beat: { ...DEFAULT_BEAT, ...beat }, secrets: [...new Set(secrets)].filter((s) => s !== "") };
}

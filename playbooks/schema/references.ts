/**
 * Checks across sections and files, run on the entries that validated: references to squads,
 * balancers and ingredients exist, `pool` has a `balancer`, a channel is bound once, a pool is
 * used by one environment.
 */
import { didYouMean } from "../../lib/suggest.ts";
import type { AppDraft } from "./apps.ts";
import type { PathKey } from "./issues.ts";
import { dotted } from "./issues.ts";

/** An entry of a section with where it was written. */
export interface Located<T> {
  name: string;
  file: string;
  path: PathKey[];
  value: T;
}

/** Every name written in a section, valid or not, so a reference to a broken entry is not "undefined". */
export interface Declared {
  squads: Set<string>;
  balancers: Set<string>;
  ingredients: Set<string>;
}

export interface LocatedProblem {
  file: string;
  path: PathKey[];
  message: string;
  /** Another place the message names (filled in as file:line by the loader). */
  other?: { file: string; path: PathKey[] };
}

function missing(kind: string, name: string, names: Set<string>): string {
  const head = `refers to ${kind} "${name}", which is not defined`;
  if (names.size === 0) return `${head} (no ${kind}s are defined)`;
  const hint = didYouMean(name, names);
  if (hint) return `${head}.${hint}`;
  return names.size <= 8 ? `${head}; the ${kind}s are ${[...names].join(", ")}` : head;
}

export function checkReferences(apps: Located<AppDraft>[], declared: Declared): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const channels = new Map<string, { owner: string; file: string; path: PathKey[] }>();
  const pools = new Map<string, { owner: string; file: string; path: PathKey[] }>();

  for (const app of apps) {
    for (const [envName, env] of Object.entries(app.value.environments)) {
      const at = [...app.path, "environments", envName];
      const here = (key: PathKey[], message: string, other?: LocatedProblem["other"]) =>
        problems.push({ file: app.file, path: [...at, ...key], message: `${dotted([...at, ...key])} ${message}`, ...(other ? { other } : {}) });
      const owner = `${app.name} ${envName}`;

      if (!declared.squads.has(env.squad)) here(["squad"], missing("squad", env.squad, declared.squads));
      if (env.balancer !== undefined && !declared.balancers.has(env.balancer)) {
        here(["balancer"], missing("balancer", env.balancer, declared.balancers));
      }
      env.ingredients.forEach((ingredient, i) => {
        if (!declared.ingredients.has(ingredient)) here(["ingredients", i], missing("ingredient", ingredient, declared.ingredients));
      });
      if (env.pool !== undefined && env.balancer === undefined) {
        here(["pool"], "needs a balancer: add `balancer: <name>` next to it");
      }
      if (env.pool !== undefined && env.balancer !== undefined) {
        const key = `${env.balancer}/${env.pool}`;
        const seen = pools.get(key);
        if (seen) here(["pool"], `"${env.pool}" of balancer ${env.balancer} is already used by ${seen.owner}`, seen);
        else pools.set(key, { owner, file: app.file, path: [...at, "pool"] });
      }
      env.channels.forEach((channel, i) => {
        const key = channel.startsWith("#") ? channel.toLowerCase() : channel;
        const seen = channels.get(key);
        if (seen) here(["channels", i], `binds "${channel}", which is already bound to ${seen.owner}`, seen);
        else channels.set(key, { owner, file: app.file, path: [...at, "channels", i] });
      });
    }
  }
  return problems;
}

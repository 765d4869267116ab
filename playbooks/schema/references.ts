/**
 * Checks across sections and files: an environment's squad, balancer and ingredients exist,
 * `pool` has a `balancer`, a channel is bound once, a pool serves one environment. They run on
 * what each environment wrote even when other keys of it are wrong, so one pass reports all.
 */
import { didYouMean } from "../../lib/suggest.ts";
import { ID_PATTERN } from "./common.ts";
import { CHANNEL } from "./environments.ts";
import { dotted, type PathKey } from "./issues.ts";

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

/** One environment as written (after `${}` substitution); `path` is `apps.<app>.environments.<env>`. */
export interface WrittenEnvironment {
  app: string;
  name: string;
  file: string;
  path: PathKey[];
  raw: Record<string, unknown>;
}

export interface LocatedProblem {
  file: string;
  path: PathKey[];
  message: string;
  /** Another place the message names (appended as file:line by the loader). */
  other?: { file: string; path: PathKey[] };
}

function missing(kind: string, name: string, names: Set<string>): string {
  const head = `refers to ${kind} "${name}", which is not defined`;
  if (names.size === 0) return `${head} (no ${kind}s are defined)`;
  const hint = didYouMean(name, names);
  if (hint) return `${head}.${hint}`;
  return names.size <= 8 ? `${head}; the ${kind}s are ${[...names].join(", ")}` : head;
}

/** A well-formed name, or undefined (a malformed one is reported by the schema). */
const name = (v: unknown): string | undefined => (typeof v === "string" && ID_PATTERN.test(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : typeof v === "string" ? [v] : []);

export function checkReferences(envs: WrittenEnvironment[], declared: Declared): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const envsOf = new Map<string, Set<string>>();
  for (const e of envs) envsOf.set(e.app, (envsOf.get(e.app) ?? new Set()).add(e.name));
  const channels = new Map<string, { owner: string; file: string; path: PathKey[] }>();
  const pools = new Map<string, { owner: string; file: string; path: PathKey[] }>();

  for (const { app, name: envName, file, path: at, raw } of envs) {
    const here = (key: PathKey[], message: string, other?: LocatedProblem["other"]) =>
      problems.push({ file, path: [...at, ...key], message: `${dotted([...at, ...key])} ${message}`, ...(other ? { other } : {}) });
    const owner = `${app} ${envName}`;

    const squad = name(raw.squad);
    if (squad !== undefined && !declared.squads.has(squad)) here(["squad"], missing("squad", squad, declared.squads));
    const balancer = name(raw.balancer);
    if (balancer !== undefined && !declared.balancers.has(balancer)) here(["balancer"], missing("balancer", balancer, declared.balancers));
    list(raw.ingredients).forEach((v, i) => {
      const ingredient = name(v);
      if (ingredient !== undefined && !declared.ingredients.has(ingredient)) {
        here(Array.isArray(raw.ingredients) ? ["ingredients", i] : ["ingredients"], missing("ingredient", ingredient, declared.ingredients));
      }
    });

    const from = name(raw.promote_from);
    if (from !== undefined && from === envName) here(["promote_from"], `names ${envName} itself; name the environment whose commits ${envName} takes, like staging`);
    else if (from !== undefined && !envsOf.get(app)?.has(from)) here(["promote_from"], missing(`environment of ${app}`, from, envsOf.get(app) ?? new Set()));

    const pool = typeof raw.pool === "string" ? raw.pool : undefined;
    if (pool !== undefined && raw.balancer === undefined) here(["pool"], "needs a balancer: add `balancer: <name>` next to it");
    if (pool !== undefined && balancer !== undefined) {
      const key = `${balancer}/${pool}`;
      const seen = pools.get(key);
      if (seen) here(["pool"], `"${pool}" of balancer ${balancer} is already used by ${seen.owner}`, seen);
      else pools.set(key, { owner, file, path: [...at, "pool"] });
    }

    list(raw.channels).forEach((channel, i) => {
      if (typeof channel !== "string" || !CHANNEL.test(channel)) return;
      const path: PathKey[] = Array.isArray(raw.channels) ? ["channels", i] : ["channels"];
      const seen = channels.get(channel);
      if (seen) here(path, `binds "${channel}", which is already bound to ${seen.owner}`, seen);
      else channels.set(channel, { owner, file, path: [...at, ...path] });
    });
  }
  problems.push(...promotionLoops(envs, envsOf));
  return problems;
}

/**
 * `promote_from` chains that come back to where they started (staging <- production <- staging):
 * no commit could serve first anywhere on the loop, so none could ever be deployed. Reported once
 * per loop, at the first of its environments as written; a name to itself or to an unknown
 * environment is reported above.
 */
function promotionLoops(envs: WrittenEnvironment[], envsOf: Map<string, Set<string>>): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const from = new Map<string, string>();
  for (const e of envs) {
    const source = name(e.raw.promote_from);
    if (source !== undefined && source !== e.name && envsOf.get(e.app)?.has(source)) from.set(`${e.app}\0${e.name}`, source);
  }
  const reported = new Set<string>();
  for (const { app, name: start, file, path } of envs) {
    const loop = [start];
    for (let next = from.get(`${app}\0${start}`); next !== undefined && next !== start && !loop.includes(next); next = from.get(`${app}\0${next}`)) loop.push(next);
    const last = loop[loop.length - 1]!;
    if (from.get(`${app}\0${last}`) !== start || loop.length < 2) continue;
    const key = `${app}\0${[...loop].sort().join("\0")}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const chain = [...loop, start].join(" takes from ");
    problems.push({
      file,
      path: [...path, "promote_from"],
      message: `${dotted([...path, "promote_from"])} makes a loop: ${chain}, so no commit could serve first in any of them; remove promote_from from one of them`,
    });
  }
  return problems;
}

import type { ParseContext } from "../command.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { ENV_KEY, IDENT, REF_MAX_LENGTH, REF_RULE, refProblem } from "../../lib/names.ts";
import { charProblem, fail, show } from "./words.ts";

/**
 * The shapes of names, and the errors that say which part is wrong and what is allowed.
 * Every check runs `charProblem` first, so a lookalike or invisible character is named as such
 * rather than reported as a generic "not allowed".
 */

/** Deployment ids look like `d-k3j9x2ab`; any id of this shape is passed on, and dispatch looks it up. */
export const DEPLOYMENT_ID = /^[a-z0-9][a-z0-9-]{2,39}$/;

const NAME_RULE = 'Names use lowercase letters, digits, "-" and "_".';

export type NameKind = "app name" | "environment name" | "proc type" | "squad name";

export function isIdent(word: string): boolean {
  return IDENT.test(word);
}

/** `word` if it is a valid identifier, else a parse error naming the problem. */
export function ident(word: string, what: NameKind): string {
  if (IDENT.test(word)) return word;
  const chars = charProblem(word);
  if (chars) fail(chars);
  const head = `${show(word)} is not a valid ${what}`;
  if (word.length > 63) fail(`${head}: it is ${word.length} characters long; the limit is 63.`);
  if (IDENT.test(word.toLowerCase())) fail(`${head}: names are lowercase. Did you mean \`${word.toLowerCase()}\`?`);
  if (!/^[a-z0-9]/.test(word)) fail(`${head}: it can't start with "${word[0]}". ${NAME_RULE}`);
  const bad = /[^a-z0-9_-]/.exec(word)![0];
  fail(`${head}: "${bad}" is not allowed. ${NAME_RULE}`);
}

/**
 * `word` if it is a ref git accepts (lib/names.ts: git's own rules), else a parse error naming the
 * problem. Command words are printable ASCII (charProblem) first: a lookalike letter in a branch
 * name is reported as such.
 */
export function ref(word: string): string {
  const chars = charProblem(word);
  if (chars) fail(chars);
  const problem = refProblem(word);
  if (problem) fail(`${show(word)} is not a valid ref: ${problem}.${word.length > REF_MAX_LENGTH ? "" : ` ${REF_RULE}`}`);
  return word;
}

/** A deployment id, with an optional leading `#` (as people copy it from a thread) removed. */
export function deploymentId(word: string, verb: string): string {
  const chars = charProblem(word);
  if (chars) fail(chars);
  const id = word.startsWith("#") ? word.slice(1) : word;
  if (DEPLOYMENT_ID.test(id)) return id;
  if (DEPLOYMENT_ID.test(id.toLowerCase())) fail(`${show(word)} is not a deployment id: ids are lowercase. Did you mean \`${id.toLowerCase()}\`?`);
  fail(`${show(word)} is not a deployment id; ids look like \`d-k3j9x2ab\` (e.g. \`${verb} d-k3j9x2ab\`).`);
}

export function configKey(word: string): string {
  if (ENV_KEY.test(word)) return word;
  const chars = charProblem(word);
  if (chars) fail(chars);
  fail(`${show(word)} is not a valid config key: keys use letters, digits and "_", and don't start with a digit.`);
}

/** Sorted, and cut after 20 names so a big playbook does not flood the channel. */
function list(names: readonly string[]): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, 20).join(", ");
  return sorted.length > 20 ? `${shown} and ${sorted.length - 20} more` : shown;
}

/** Edit-distance suggestion first; failing that, the one name that `word` is a prefix of ("prod"). */
function hint(word: string, names: readonly string[]): string {
  const close = didYouMean(word, names);
  if (close) return close;
  const prefixed = names.filter((n) => word.length >= 2 && n.startsWith(word));
  return prefixed.length === 1 ? ` Did you mean \`${prefixed[0]}\`?` : "";
}

export function knownApps(ctx: ParseContext): readonly string[] | undefined {
  return Array.isArray(ctx.apps) ? ctx.apps.filter((a): a is string => typeof a === "string") : undefined;
}

export function knownEnvs(ctx: ParseContext, app: string): readonly string[] | undefined {
  const envs = ctx.envs;
  if (!envs || typeof envs !== "object" || !Object.hasOwn(envs, app)) return undefined;
  const names = envs[app];
  return Array.isArray(names) ? names.filter((e): e is string => typeof e === "string") : undefined;
}

/** The environment a command naming only `app` means, if the context gives one. */
export function defaultEnv(ctx: ParseContext, app: string): string | undefined {
  const d = ctx.defaultEnvs;
  if (!d || typeof d !== "object" || !Object.hasOwn(d, app)) return undefined;
  const env = d[app];
  return typeof env === "string" && IDENT.test(env) ? env : undefined;
}

/**
 * The app and environment an error's example names, so it can be typed as shown: the channel's
 * binding, else the playbook's first app (by name) and its default (or first) environment, else
 * the demo's `hello local` (help's examples). Never an app the playbook does not have.
 */
export function exampleNames(ctx: ParseContext): { app: string; env: string } {
  const b = { app: typeof ctx.app === "string" ? ctx.app : undefined, env: typeof ctx.env === "string" ? ctx.env : undefined };
  if (b.app && b.env) return { app: b.app, env: b.env };
  const apps = [...(knownApps(ctx) ?? [])].sort();
  const app = b.app ?? apps[0];
  if (!app) return { app: "hello", env: "local" };
  const env = defaultEnv(ctx, app) ?? [...(knownEnvs(ctx, app) ?? [])].sort()[0];
  return { app, env: env ?? (apps.length === 0 ? "local" : "production") };
}

/** `<app> <env>` of exampleNames, as typed in a command. */
export function exampleTarget(ctx: ParseContext): string {
  const { app, env } = exampleNames(ctx);
  return `${app} ${env}`;
}

/** An environment of `app` to show in an example: its default, else its first, else the example's. */
export function exampleEnv(ctx: ParseContext, app: string): string {
  return defaultEnv(ctx, app) ?? [...(knownEnvs(ctx, app) ?? [])].sort()[0] ?? exampleNames(ctx).env;
}

/** Rejects an app the context does not know; with no `apps` in the context, any valid name passes. */
export function checkApp(app: string, ctx: ParseContext): string {
  const apps = knownApps(ctx);
  if (!apps || apps.includes(app)) return app;
  if (apps.length === 0) fail(`unknown app "${app}": no apps are configured yet.`);
  fail(`unknown app "${app}".${hint(app, apps)} Known apps: ${list(apps)}.`);
}

export function checkEnv(app: string, env: string, ctx: ParseContext): string {
  const envs = knownEnvs(ctx, app);
  if (!envs || envs.includes(env)) return env;
  if (envs.length === 0) fail(`unknown environment "${env}" for ${app}: it has no environments yet.`);
  fail(`unknown environment "${env}" for ${app}.${hint(env, envs)} Known environments: ${list(envs)}.`);
}

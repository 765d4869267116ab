/** Questions the bot and engine ask of a loaded playbook. Pure. */
import type { App, Environment, Playbook } from "./types.ts";
import { makeRedactor } from "../lib/redact.ts";

/** Whether `channel` is one of the environment's `channels`: "#name" matches the channel's name, "C123" its id. */
export function boundToChannel(env: Pick<Environment, "channels">, channel: { id: string; name?: string }): boolean {
  const name = channel.name?.replace(/^#/, "").toLowerCase();
  return env.channels.some((bound) => (bound.startsWith("#") ? name !== undefined && bound.slice(1).toLowerCase() === name : bound === channel.id));
}

/** The app and environment a channel is bound to (the first one, in playbook order). */
export function bindingForChannel(pb: Playbook, channel: { id: string; name?: string }): { app: string; env: string } | undefined {
  for (const app of Object.values(pb.apps)) {
    for (const env of Object.values(app.environments)) {
      if (boundToChannel(env, channel)) return { app: app.name, env: env.name };
    }
  }
  return undefined;
}

export function environmentOf(pb: Playbook, app: string, env: string): { app: App; environment: Environment } | undefined {
  const a = Object.hasOwn(pb.apps, app) ? pb.apps[app] : undefined;
  const e = a && Object.hasOwn(a.environments, env) ? a.environments[env] : undefined;
  return a && e ? { app: a, environment: e } : undefined;
}

/**
 * The config an environment's procs get: its ingredients in order, then its own env and
 * settings; later wins. (`config set` values are layered on top by the release step.)
 * Throws for an unknown app or environment: callers look them up first.
 */
/**
 * Whether a proc (its app and environment) runs for squad `squad` by the playbook: a machine two
 * squads name holds procs of both, and each squad speaks for its own (pure).
 */
export function onSquad(pb: Playbook, squad: string, proc: { app: string; env: string }): boolean {
  return environmentOf(pb, proc.app, proc.env)?.environment.squad === squad;
}

export function configFor(pb: Playbook, app: string, env: string): { env: Record<string, string>; settings: Record<string, unknown> } {
  const found = environmentOf(pb, app, env);
  if (!found) throw new Error(`playbook has no environment ${env} for app ${app}`);
  const out = { env: {} as Record<string, string>, settings: {} as Record<string, unknown> };
  for (const name of found.environment.ingredients) {
    const ingredient = pb.ingredients[name];
    if (!ingredient) throw new Error(`playbook has no ingredient ${name}`); // validated at load
    Object.assign(out.env, ingredient.env);
    Object.assign(out.settings, ingredient.settings);
  }
  Object.assign(out.env, found.environment.env);
  Object.assign(out.settings, found.environment.settings);
  return out;
}

/**
 * App and environment names, for the grammar's did-you-mean, and each app's default environment:
 * its `default_environment:`, or its only environment (as hubot-deploy and Heroku ChatOps read
 * `deploy web`).
 */
export function knownNames(pb: Playbook): { apps: string[]; envs: Record<string, string[]>; defaultEnvs: Record<string, string> } {
  const apps = Object.keys(pb.apps).sort();
  const envs: Record<string, string[]> = {};
  const defaultEnvs: Record<string, string> = {};
  for (const app of apps) {
    envs[app] = Object.keys(pb.apps[app]!.environments).sort();
    const d = defaultEnvironment(pb.apps[app]!);
    if (d !== undefined) defaultEnvs[app] = d;
  }
  return { apps, envs, defaultEnvs };
}

/** An app's `default_environment`, else its only environment, else none. */
export function defaultEnvironment(app: App): string | undefined {
  if (app.default_environment !== undefined) return app.default_environment;
  const names = Object.keys(app.environments);
  return names.length === 1 ? names[0] : undefined;
}

/** Replaces every secret of 4 characters or more with `[REDACTED]` (see lib/redact.ts). */
export function maskSecrets(pb: Pick<Playbook, "secrets">, text: string): string {
  return makeRedactor(pb.secrets)(text);
}

/**
 * Who may approve an environment's deployments: `approval.approvers`, then `access.approve`,
 * then `access.deploy`, the first that names someone. Empty means anyone but the requester.
 */
export function approversOf(environment: Environment): string[] {
  const a = environment.access;
  return [environment.approval.approvers, a.approve, a.deploy].find((l) => l !== undefined && l.length > 0) ?? [];
}

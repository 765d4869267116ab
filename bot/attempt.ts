import { normalize } from "./grammar/words.ts";
import { maskTyped } from "./typed-text.ts";

/**
 * A deployment request that the grammar refused, as the audit log keeps it so `deploys` lists it
 * with the accepted and refused ones: an operator reading `deploys hello local` expects to see
 * every attempt on hello local, `config set hello local PORT=1` too (new-user trial).
 *
 * Only text that names an app and one of its environments (or comes from a channel bound to
 * one) and starts with a verb that asks for a deployment is an attempt; anything else stays a
 * bare parse error, recorded by its first word only.
 */
export interface Attempt {
  /** The audit action, as an accepted request of that verb records it (db/queries/audit-log.ts DEPLOYMENT_ACTIONS). */
  action: "deploy" | "rollback" | "scale" | "restart" | "config-set" | "config-unset" | "promote";
  app: string;
  env: string;
  /**
   * The text as typed, masked as all typed text is kept (bot/typed-text.ts maskTyped: `KEY=…` for
   * each pair, `…` for any word after `config set|secret` but the app and environment, and for
   * words that look like credentials). At most 500 characters.
   */
  summary: string;
}

/** The names the attempt is matched against (playbook/resolve.ts knownNames), and the channel's binding. */
export interface AttemptContext {
  apps?: readonly string[];
  envs?: Readonly<Record<string, readonly string[]>>;
  app?: string;
  env?: string;
}

const VERB_ACTIONS: Record<string, Attempt["action"]> = {
  deploy: "deploy",
  "deploy!": "deploy",
  rollback: "rollback",
  "rollback!": "rollback",
  scale: "scale",
  "scale!": "scale",
  restart: "restart",
  promote: "promote",
};

/** Pure: the attempt `text` made, or undefined when it names no deployment of a known app+env. */
export function attemptedRequest(text: string, ctx: AttemptContext): Attempt | undefined {
  const words = normalize(text).text.split(/\s+/).filter((w) => w.length > 0);
  const verb = words[0]?.toLowerCase() ?? "";
  const sub = words[1]?.toLowerCase();
  // `<app> <env> deploy [<ref>]`: the word order some teams type.
  const reordered = words[2]?.toLowerCase() === "deploy" || words[2]?.toLowerCase() === "deploy!";
  const action: Attempt["action"] | undefined =
    verb === "config" ? (sub === "set" || sub === "secret" ? "config-set" : sub === "unset" ? "config-unset" : undefined) : (VERB_ACTIONS[verb] ?? (reordered ? "deploy" : undefined));
  if (!action) return undefined;
  const firstArg = reordered && !VERB_ACTIONS[verb] ? 0 : verb === "config" ? 2 : 1;
  const found = target(words, firstArg, action === "promote", ctx);
  if (!found) return undefined;
  return { action, app: found.app, env: found.env, summary: maskTyped(normalize(text).text, ctx) };
}

/** The app and environment the words name from `from` on (`web@v1 to production` too), and the index of the environment's word. */
function target(words: readonly string[], from: number, promote: boolean, ctx: AttemptContext): { app: string; env: string; last: number } | undefined {
  for (let i = from; i < words.length; i++) {
    const app = words[i]!.split(/[@/]/, 1)[0]!;
    if (!ctx.apps?.includes(app)) continue;
    const envs = ctx.envs?.[app] ?? [];
    let found: { env: string; last: number } | undefined;
    for (let j = i + 1; j < words.length; j++) {
      if (!envs.includes(words[j]!)) continue;
      found = { env: words[j]!, last: j };
      // A promote names the environment it takes from, then the one it deploys to.
      if (!promote) break;
    }
    if (found) return { app, ...found };
  }
  if (ctx.app && ctx.env) return { app: ctx.app, env: ctx.env, last: from - 1 };
  return undefined;
}

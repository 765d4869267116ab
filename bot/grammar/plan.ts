import type { Command, ParseContext, PlannableCommand } from "../command.ts";
import { checkApp, checkEnv, ident, knownEnvs } from "./names.ts";
import { binding, noMore } from "./target.ts";
import { fail, show, type Word } from "./words.ts";

/** The verbs `plan` takes, as typed after it. */
export const PLANNABLE_VERBS = ["deploy", "deploy!", "rollback", "rollback!", "scale", "scale!", "config", "promote"] as const;

/**
 * plan <command>: the command is parsed by the one grammar (`parseVerb`), then must be one that
 * changes what runs: deploy, rollback, scale, config set/secret/unset or promote.
 */
export function parsePlan(words: Word[], parseVerb: (verb: string, words: Word[]) => Command): Command {
  const w0 = words[0];
  if (!w0) fail("plan what? e.g. `plan deploy web production`, `plan rollback web production v41`, `plan scale web production web=6`.");
  const verb = w0.text.toLowerCase();
  if (!(PLANNABLE_VERBS as readonly string[]).includes(verb)) {
    fail(`plan shows deploy, rollback, scale, config set/unset and promote, not ${show(w0.text)}. e.g. \`plan deploy web production\`.`);
  }
  const of = parseVerb(verb, words.slice(1));
  if (of.kind === "config") fail("plan shows changes: `plan config set <app> <env> KEY=VALUE ...` or `plan config unset <app> <env> KEY ...` (`config <app> <env>` shows the config).");
  const planned = of as PlannableCommand;
  return { kind: "plan", app: planned.app, env: planned.env, of: planned };
}

/** promote <app> <from-env> <to-env>; in a channel bound to an app: promote <from-env> <to-env> */
export function parsePromote(words: Word[], ctx: ParseContext): Command {
  const b = binding(ctx);
  let app: string;
  let rest: Word[];
  const envsOfBound = b.app ? knownEnvs(ctx, b.app) : undefined;
  if (words.length === 2 && b.app && (!envsOfBound || envsOfBound.includes(words[0]!.text))) {
    app = b.app;
    rest = words;
  } else {
    const w0 = words[0];
    if (!w0) fail("promote needs an app and two environments, e.g. `promote web staging production` (the build serving staging goes to production).");
    app = checkApp(ident(w0.text, "app name"), ctx);
    rest = words.slice(1);
  }
  const [f, t] = rest;
  if (!f || !t) fail(`promote ${app} needs the environment to take the build from and the one to deploy it to, e.g. \`promote ${app} staging production\`.`);
  const from = checkEnv(app, ident(f.text, "environment name"), ctx);
  const env = checkEnv(app, ident(t.text, "environment name"), ctx);
  noMore(rest.slice(2), "promote");
  if (from === env) fail(`promote ${app} ${from} ${env}: the two environments must differ (to redeploy what serves, type \`deploy ${app} ${env}\`).`);
  return { kind: "promote", app, env, from };
}

import type { Command, ParseContext } from "../command.ts";
import { parseDuration } from "../../playbooks/duration.ts";
import { binding, resolveTarget, noMore } from "./target.ts";
import { fail, show, type Word } from "./words.ts";

/** What `deploys` looks back over when no `since` is given. */
export const DEFAULT_DEPLOYS_SINCE_MS = 7 * 86_400_000;
/** The furthest `deploys ... since` looks back. */
export const MAX_DEPLOYS_SINCE_MS = 366 * 86_400_000;

/** deploys <app> <env> [since <duration>]; short form: deploys [since <duration>] */
export function parseDeploys(words: Word[], ctx: ParseContext): Command {
  const fits = (r: Word[]) => r.length === 0 || (r[0]?.text === "since" && r.length <= 2) || (r.length === 1 && /^\d/.test(r[0]!.text));
  const b = binding(ctx);
  // "since" is never an app here: `deploys since 2d` in a bound channel.
  const t = words[0]?.text === "since" && b.app && b.env ? { app: b.app, env: b.env, rest: words } : resolveTarget("deploys", "deploys", words, ctx, fits);
  let rest = t.rest;
  if (rest[0]?.text === "since") {
    rest = rest.slice(1);
    if (!rest[0]) fail(`deploys ${t.app} ${t.env} since when? e.g. \`deploys ${t.app} ${t.env} since 2d\`.`);
  }
  if (!rest[0]) return { kind: "deploys", app: t.app, env: t.env, sinceMs: DEFAULT_DEPLOYS_SINCE_MS };
  const text = rest[0].text;
  const ms = parseDuration(text.toLowerCase());
  if (ms === undefined || ms < 60_000 || ms > MAX_DEPLOYS_SINCE_MS) {
    fail(`${show(text)} is not a time to look back over: write one from 1m to 366d, e.g. \`deploys ${t.app} ${t.env} since 2d\`.`);
  }
  noMore(rest.slice(1), "deploys");
  return { kind: "deploys", app: t.app, env: t.env, sinceMs: ms };
}

/** who deployed <app> <env>; short form: who deployed */
export function parseWhoDeployed(words: Word[], ctx: ParseContext): Command {
  if (words[0]?.text.toLowerCase() !== "deployed") fail("`who` asks `who deployed <app> <env>`, e.g. `who deployed web production`.");
  const t = resolveTarget("who deployed", "who-deployed", words.slice(1), ctx, (r) => r.length === 0);
  noMore(t.rest, "who-deployed");
  return { kind: "who-deployed", app: t.app, env: t.env };
}

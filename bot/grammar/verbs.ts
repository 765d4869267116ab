import type { Command, ParseContext } from "../command.ts";
import { helpEntry, HELP_TOPICS } from "../help.ts";
import { MAX_PROCS_PER_TYPE } from "../../lib/limits.ts";
import { didYouMean } from "../../lib/suggest.ts";
import { readLockTime } from "./lock-time.ts";
import { checkApp, checkEnv, deploymentId, exampleNames, exampleTarget, ident } from "./names.ts";
import { binding, noMore, resolveTarget } from "./target.ts";
import { charProblem, collapseSpaces, fail, freeTextProblem, QUOTES, show, type Word } from "./words.ts";

/** Limits, also quoted in the error messages. */
export const MAX_SCALE = MAX_PROCS_PER_TYPE;
export const MAX_LOG_LINES = 5000;

const NUMBER = /^[-+]?\d+$/;
const RELEASE = /^[vV]?(\d{1,9})$/;

/** rollback <app> <env> [v<N>|<N>]; short form: rollback [v<N>] */
export function parseRollback(words: Word[], ctx: ParseContext): Extract<Command, { kind: "rollback" }> {
  const t = resolveTarget("rollback", "rollback", words, ctx, (r) => r.length === 0 || (r.length === 1 && RELEASE.test(r[0]!.text)));
  noMore(t.rest.slice(1), "rollback", t);
  const w = t.rest[0];
  if (!w) return { kind: "rollback", app: t.app, env: t.env };
  const m = RELEASE.exec(w.text);
  const release = m ? Number(m[1]) : 0;
  if (release < 1) {
    fail(charProblem(w.text) ?? `${show(w.text)} is not a release: write v<N> or <N> (from 1), e.g. \`rollback ${t.app} ${t.env} v41\`.`);
  }
  return { kind: "rollback", app: t.app, env: t.env, release };
}

/** scale <app> <env> <proc>=<n> ...; short form: scale <proc>=<n> ... */
export function parseScale(words: Word[], ctx: ParseContext): Extract<Command, { kind: "scale" }> {
  const pairs = (r: Word[]) => r.length > 0 && r.every((w) => w.text.includes("="));
  let target;
  if (words[0]?.text.includes("=")) {
    const b = binding(ctx);
    counts(words); // report a bad pair before the missing binding
    if (!b.app || !b.env) fail(`scale needs an app and an environment first (this channel is not bound to one), e.g. \`scale ${exampleTarget(ctx)} ${words.map((w) => w.text).join(" ")}\`.`);
    target = { app: b.app, env: b.env, rest: words };
  } else {
    target = resolveTarget("scale", "scale", words, ctx, pairs);
  }
  const { app, env, rest } = target;
  if (rest.length === 0) fail(`scale ${app} ${env} needs proc=count pairs, e.g. \`scale ${app} ${env} web=6 worker=2\`.`);
  return { kind: "scale", app, env, scale: counts(rest) };
}

function counts(words: Word[]): Record<string, number> {
  const scale: Record<string, number> = {};
  for (const { text } of words) {
    const eq = text.indexOf("=");
    const chars = charProblem(text);
    if (chars) fail(chars);
    if (eq < 0) fail(`${show(text)} is not a proc=count pair, e.g. \`web=6\`.`);
    if (eq === 0) fail(`${show(text)} has no proc type before "=", e.g. \`web=6\`.`);
    const proc = ident(text.slice(0, eq), "proc type");
    const count = text.slice(eq + 1);
    if (!/^\d+$/.test(count)) fail(`${show(text)}: the count must be a whole number from 0 to ${MAX_SCALE}.`);
    const digits = count.replace(/^0+(?=\d)/, "");
    if (digits.length > 3 || Number(digits) > MAX_SCALE) {
      fail(`${show(text)} asks for ${digits} processes; the limit is ${MAX_SCALE} per proc type.`);
    }
    if (Object.hasOwn(scale, proc)) fail(`${proc} is given twice; give each proc type once.`);
    scale[proc] = Number(digits);
  }
  return scale;
}

/** restart <app> <env> [<proc>]; short form: restart [<proc>] */
export function parseRestart(words: Word[], ctx: ParseContext): Command {
  const t = resolveTarget("restart", "restart", words, ctx, (r) => r.length <= 1);
  noMore(t.rest.slice(1), "restart", t);
  const w = t.rest[0];
  return w ? { kind: "restart", app: t.app, env: t.env, proc: ident(w.text, "proc type") } : { kind: "restart", app: t.app, env: t.env };
}

/** status <app> [<env>]; a bare `status` is about the channel's binding. */
export function parseStatus(words: Word[], ctx: ParseContext): Command {
  const [w0, w1] = words;
  if (!w0) {
    const b = binding(ctx);
    if (!b.app) fail(`status needs an app, e.g. \`status ${exampleNames(ctx).app}\` or \`status ${exampleTarget(ctx)}\`.`);
    return b.env ? { kind: "status", app: b.app, env: b.env } : { kind: "status", app: b.app };
  }
  const app = checkApp(ident(w0.text, "app name"), ctx);
  noMore(words.slice(2), "status");
  if (!w1) return { kind: "status", app };
  return { kind: "status", app, env: checkEnv(app, ident(w1.text, "environment name"), ctx) };
}

/** releases <app> <env>; short form: releases */
export function parseReleases(words: Word[], ctx: ParseContext): Command {
  const t = resolveTarget("releases", "releases", words, ctx, (r) => r.length === 0);
  noMore(t.rest, "releases", t);
  return { kind: "releases", app: t.app, env: t.env };
}

/** logs <app> <env> [<proc>] [<lines>]; short form: logs [<proc>] [<lines>] */
export function parseLogs(words: Word[], ctx: ParseContext): Command {
  const fits = (r: Word[]) => r.length === 0 || (r.length === 1) || (r.length === 2 && NUMBER.test(r[1]!.text) && !NUMBER.test(r[0]!.text));
  const t = resolveTarget("logs", "logs", words, ctx, fits);
  const cmd: Extract<Command, { kind: "logs" }> = { kind: "logs", app: t.app, env: t.env };
  let rest = t.rest;
  if (rest[0] && !NUMBER.test(rest[0].text)) {
    cmd.proc = ident(rest[0].text, "proc type");
    rest = rest.slice(1);
  }
  if (rest[0]) {
    const text = rest[0].text;
    const lines = NUMBER.test(text) ? Number(text) : NaN;
    if (!(lines >= 1 && lines <= MAX_LOG_LINES)) {
      fail(charProblem(text) ?? `${show(text)} is not a number of lines: logs shows 1 to ${MAX_LOG_LINES}, e.g. \`logs ${t.app} ${t.env} ${cmd.proc ?? "web"} 200\`.`);
    }
    cmd.lines = lines;
    rest = rest.slice(1);
  }
  noMore(rest, "logs", t);
  return cmd;
}

/**
 * The rest of the message from `words[0]` on, as one line: whitespace runs become one space, and
 * one pair of quotes around the whole reason is dropped. Any printable character is allowed.
 */
function reason(words: Word[], text: string): string | undefined {
  const first = words[0];
  const last = words[words.length - 1];
  if (!first || !last) return undefined;
  let r = collapseSpaces(text.slice(first.start, last.end));
  const open = r[0]!;
  if (r.length >= 2 && Object.hasOwn(QUOTES, open) && QUOTES[open]!.includes(r[r.length - 1]!)) r = collapseSpaces(r.slice(1, -1));
  const problem = freeTextProblem(r, "the reason");
  if (problem) fail(problem);
  return r === "" ? undefined : r;
}

/** lock <app> <env> [<duration>] [reason...]; short form: lock [<duration>] [reason...] */
export function parseLock(words: Word[], text: string, ctx: ParseContext): Command {
  const t = resolveTarget("lock", "lock", words, ctx, () => true);
  const time = readLockTime(t.rest.map((w) => w.text), `${t.app} ${t.env}`);
  if (time.kind === "refused") fail(time.message);
  const forMs = time.kind === "time" ? time.ms : undefined;
  const why = reason(forMs === undefined ? t.rest : t.rest.slice(1), text);
  return { kind: "lock", app: t.app, env: t.env, ...(why !== undefined ? { reason: why } : {}), ...(forMs !== undefined ? { forMs } : {}) };
}

/** unlock <app> <env>; short form: unlock */
export function parseUnlock(words: Word[], ctx: ParseContext): Command {
  const t = resolveTarget("unlock", "unlock", words, ctx, (r) => r.length === 0);
  noMore(t.rest, "unlock", t);
  return { kind: "unlock", app: t.app, env: t.env };
}

/** approve <id> / cancel <id> / show <id> / reject <id> [reason...] */
export function parseDecision(verb: "approve" | "reject" | "cancel" | "show", words: Word[], text: string): Command {
  const w0 = words[0];
  if (!w0) fail(`${verb} needs a deployment id, e.g. \`${verb} d-k3j9x2ab\` (the id is in the deployment's thread).`);
  const id = deploymentId(w0.text, verb);
  if (verb === "reject") {
    const why = reason(words.slice(1), text);
    return why === undefined ? { kind: "reject", id } : { kind: "reject", id, reason: why };
  }
  noMore(words.slice(1), verb);
  return { kind: verb, id };
}

/** hosts [<squad>] | hosts check [<squad>] */
export function parseHosts(words: Word[]): Command {
  if (words[0]?.text === "check") {
    noMore(words.slice(2), "hosts check");
    return words[1] ? { kind: "hosts", squad: ident(words[1].text, "squad name"), check: true } : { kind: "hosts", check: true };
  }
  noMore(words.slice(1), "hosts");
  return words[0] ? { kind: "hosts", squad: ident(words[0].text, "squad name") } : { kind: "hosts" };
}

/** help [<command>]: the topic is normalized to a command kind (`help ps` -> status). */
export function parseHelp(words: Word[]): Command {
  const [w0, w1] = words;
  if (!w0) return { kind: "help" };
  const chars = charProblem(w0.text);
  if (chars) fail(chars);
  let topic = w0.text.toLowerCase();
  let used = 1;
  if (topic === "config" && (w1?.text === "set" || w1?.text === "unset" || w1?.text === "secret")) {
    topic = `config-${w1.text}`;
    used = 2;
  } else if (topic === "who" && w1?.text.toLowerCase() === "deployed") {
    used = 2;
  }
  const entry = helpEntry(topic);
  if (!entry) fail(`no help for ${show(w0.text)}.${didYouMean(w0.text, HELP_TOPICS)} Type \`help\` for the list.`);
  noMore(words.slice(used), "help");
  return { kind: "help", topic: entry.topic };
}

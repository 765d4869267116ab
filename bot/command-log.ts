import type { LogLine } from "../engine/event-log.ts";
import type { Command, ParseResult } from "./command.ts";
import type { ChatRequest, Reply } from "./dispatch-types.ts";
import type { Attempt } from "./attempt.ts";
import { maskTyped, unparsedWord, type TypedNames } from "./typed-text.ts";

/**
 * raptor.log's line for one chat command (issue 11 item 13): who (`actor`), what (the command's
 * kind, app, env and its text), where (`origin`, `channel`), how it ended (`outcome`: the reply's
 * kind, with the refusal's code or the deployment it started) and how long the answer took. Pure.
 *
 * Secrets never reach it: the text passes `maskCommandText` (bot/typed-text.ts: every value, every
 * word after `config set|secret` but known names, every credential-looking word) before the
 * logger's own redactor runs, because they are not known secrets yet. Text that did not parse is
 * not logged (a mistyped `config secrte K=V` may hold one): its first word when plain
 * (`unparsedWord`) and its length are, and, when it attempted a deployment of a known app+env
 * (`attempt`, bot/attempt.ts), that app, env and its masked text, as `deploys` lists it.
 * `names`: the app and environment names the text may name (knownNames).
 * `reply` is undefined when answering threw (a bug): the line is then an error.
 */
export function commandLogLine(req: ChatRequest, parsed: ParseResult, reply: Reply | undefined, ms: number, attempt?: Attempt, names: TypedNames = {}): LogLine {
  const where = { actor: req.actor.id, origin: req.origin, ...(req.channel ? { channel: req.channel.name ?? req.channel.id } : {}) };
  const outcome = reply
    ? {
        outcome: reply.kind,
        ...(reply.kind === "refused" ? { code: reply.code } : {}),
        ...((reply.kind === "deployment" || reply.kind === "done") && reply.deploymentId ? { deploymentId: reply.deploymentId } : {}),
      }
    : { outcome: "internal_error" };
  if (!parsed.ok) {
    const verb = unparsedVerb(req.text, names);
    // A deployment attempted on a known app+env (bot/attempt.ts): which, and its text with a config change's values masked.
    const tried = attempt ? { app: attempt.app, env: attempt.env, attempted: attempt.action, text: attempt.summary } : {};
    return { level: "info", fields: { ...where, command: "unparsed", verb, length: req.text.length, ...tried, ...outcome, ms }, msg: `command from ${req.actor.id} not understood` };
  }
  const cmd = parsed.command;
  const text = maskCommandText(req.text, parsed, names);
  const about = { ...("app" in cmd ? { app: cmd.app } : {}), ...("env" in cmd ? { env: cmd.env } : {}), ...("id" in cmd ? { target: cmd.id } : {}) };
  return {
    level: reply ? "info" : "error",
    fields: { ...where, command: cmd.kind, ...about, text, ...outcome, ms },
    msg: `command ${cmd.kind} from ${req.actor.id}: ${reply ? reply.kind : "internal error"}`,
  };
}

/**
 * The command text as Raptor stores, logs or echoes it, the one way for every place (audit rows,
 * raptor.log, the chat echo, threads): parsed or not, `maskTyped` (bot/typed-text.ts) hides every
 * `KEY=VALUE`'s value, every word after `config set|secret` but the names in `names`, and every
 * credential-looking word; text that did not parse keeps only its first word when plain
 * (`unparsedWord`: `config …`). Pure.
 */
export function maskCommandText(text: string, parsed: ParseResult, names: TypedNames = {}): string {
  return parsed.ok ? maskTyped(text.trim(), names, plainConfig(parsed.command)) : unparsedWord(text, names);
}

/**
 * Whether a parsed command's `KEY=VALUE`s are plain config (a `config set`, or a `plan` of one, not
 * `config secret`), which `maskTyped` then shows as typed but for secret-looking ones.
 */
export function plainConfig(cmd: Command): boolean {
  const of = cmd.kind === "plan" ? cmd.of : cmd;
  return of.kind === "config-set" && !of.secret;
}

/** The first word of text that did not parse, as raptor.log's `verb` and the audit row keep it: plain, or `…`. */
export function unparsedVerb(text: string, names: TypedNames = {}): string {
  return unparsedWord(text, names).replace(/ …$/, "");
}

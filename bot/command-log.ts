import type { LogLine } from "../engine/event-log.ts";
import { makeRedactor, secretValues } from "../lib/redact.ts";
import type { ParseResult } from "./command.ts";
import type { ChatRequest, Reply } from "./dispatch-types.ts";
import type { Attempt } from "./attempt.ts";

/**
 * raptor.log's line for one chat command (issue 11 item 13): who (`actor`), what (the command's
 * kind, app, env and its text), where (`origin`, `channel`), how it ended (`outcome`: the reply's
 * kind, with the refusal's code or the deployment it started) and how long the answer took. Pure.
 *
 * Secrets never reach it: a `config set`/`config secret` has its secret values (by key, by value,
 * or all of them for `config secret`: lib/redact.ts `secretValues`) masked in the text before the
 * logger's own redactor runs, because they are not known secrets yet. Text that did not parse is
 * not logged (a mistyped `config secrte K=V` may hold one): its first word and length are, and,
 * when it attempted a deployment of a known app+env (`attempt`, bot/attempt.ts), that app, env
 * and the text with a config change's values masked, as `deploys` lists it.
 * `reply` is undefined when answering threw (a bug): the line is then an error.
 */
export function commandLogLine(req: ChatRequest, parsed: ParseResult, reply: Reply | undefined, ms: number, attempt?: Attempt): LogLine {
  const where = { actor: req.actor.id, origin: req.origin, ...(req.channel ? { channel: req.channel.name ?? req.channel.id } : {}) };
  const outcome = reply
    ? {
        outcome: reply.kind,
        ...(reply.kind === "refused" ? { code: reply.code } : {}),
        ...((reply.kind === "deployment" || reply.kind === "done") && reply.deploymentId ? { deploymentId: reply.deploymentId } : {}),
      }
    : { outcome: "internal_error" };
  if (!parsed.ok) {
    const verb = req.text.trim().split(/\s+/, 1)[0]?.slice(0, 40) ?? "";
    // A deployment attempted on a known app+env (bot/attempt.ts): which, and its text with a config change's values masked.
    const tried = attempt ? { app: attempt.app, env: attempt.env, attempted: attempt.action, text: attempt.summary } : {};
    return { level: "info", fields: { ...where, command: "unparsed", verb, length: req.text.length, ...tried, ...outcome, ms }, msg: `command from ${req.actor.id} not understood` };
  }
  const cmd = parsed.command;
  const text = maskCommandText(req.text, parsed);
  const about = { ...("app" in cmd ? { app: cmd.app } : {}), ...("env" in cmd ? { env: cmd.env } : {}), ...("id" in cmd ? { target: cmd.id } : {}) };
  return {
    level: reply ? "info" : "error",
    fields: { ...where, command: cmd.kind, ...about, text, ...outcome, ms },
    msg: `command ${cmd.kind} from ${req.actor.id}: ${reply ? reply.kind : "internal error"}`,
  };
}

/**
 * The command text with the secret values of a `config set` / `config secret` masked (by key, by
 * value, or all of them for `config secret`: lib/redact.ts). Text that did not parse is left out
 * entirely but for its first word (a mistyped `config secrte K=V` may hold one). Pure.
 */
export function maskCommandText(text: string, parsed: ParseResult): string {
  if (!parsed.ok) return firstWordOf(text);

  const cmd = parsed.command;
  const pending = cmd.kind === "config-set" ? secretValues(cmd.vars, new Set(cmd.secret ? Object.keys(cmd.vars) : [])) : [];
  return makeRedactor(pending)(text.trim()).slice(0, 500);
}


/**
 * What is shown of a command that did not parse: its first word (at most 40 characters), and "…"
 * only when something was left out (more words, or a longer word), so a bare `status` echoes as
 * `status`, `config secrte hello local K=V` as `config …`. Pure.
 */
export function firstWordOf(text: string): string {
  const trimmed = text.trim();
  const word = trimmed.split(/\s+/, 1)[0] ?? "";
  const shown = Array.from(word).slice(0, 40).join("");
  return shown.length < trimmed.length ? `${shown} …` : shown;
}

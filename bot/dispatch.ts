import { utcTimeEnd } from "../lib/time-text.ts";
import { bindingForChannel, boundToChannel, environmentOf, knownNames } from "../playbooks/resolve.ts";
import { audit, cancelDeployment, decideApproval, lockEnvironment, requestDeployment, unlockEnvironment, type DeploymentRequest } from "../engine/api.ts";
import type { EngineApiDeps } from "../engine/context.ts";
import { EngineError, explain } from "../engine/errors.ts";
import { streamIdBefore } from "../engine/events.ts";
import { deploymentById } from "../db/queries/deployments.ts";
import { accessList, actionFor, describeList } from "./access.ts";
import { answerQuery } from "./answers/index.ts";
import type { Command, ParseResult } from "./command.ts";
import type { Authorizer, ChatRequest, Reply } from "./dispatch-types.ts";
import { parse } from "./grammar.ts";
import { planChange, type PlanRequest } from "../engine/changes/plan.ts";
import { requestPromotion } from "../engine/promote.ts";
import { planText } from "./answers/plan-text.ts";
import { pendingSecrets, redactorFor } from "../engine/redact.ts";
import type { PlannableCommand } from "./command.ts";
import type { Coalescer } from "../lib/coalesce.ts";
import { commandLogLine, maskCommandText, plainConfig, unparsedVerb } from "./command-log.ts";
import { maskReason, maskTyped } from "./typed-text.ts";
import { refusalReason } from "./answers/history-text.ts";
import { attemptedRequest, type Attempt } from "./attempt.ts";
import { parseOrigin } from "./notify/format.ts";
import type { Playbook } from "../playbooks/types.ts";

export interface DispatchDeps {
  engine: EngineApiDeps;
  authorizer: Authorizer;
  /**
   * Shares the answer to identical queries asked within its window (the Slack bot passes one, 1 s:
   * a burst of the same `status` costs one answer). Any command that changes something clears it,
   * so nobody is shown, after their own `lock` or `deploy`, what was true before it.
   */
  answers?: Coalescer<Reply>;
}

/**
 * One command from any chat adapter: parse, authorize, then request work or answer a query.
 * Never throws for anything a person can type: every outcome is a Reply the channel can show.
 */
export async function dispatch(deps: DispatchDeps, req: ChatRequest): Promise<Reply> {
  const t0 = Date.now();
  const problem = await deps.engine.refreshPlaybook?.();
  const ctx = parseContextFor(deps, req);
  const parsed = parse(req.text, ctx);
  // A deployment asked for on a known app+env, refused by the grammar (bot/attempt.ts).
  const attempt = parsed.ok ? undefined : attemptedRequest(req.text, ctx);
  let reply: Reply | undefined;
  try {
    reply = await answer(deps, req, parsed, attempt, ctx);
  } finally {
    const line = commandLogLine(req, parsed, reply, Date.now() - t0, attempt, ctx);
    deps.engine.logger[line.level](line.fields, line.msg);
  }
  // A broken playbook edit is kept out; whoever types next is told, with the answer.
  // Every answer echoes what a person typed somewhere (a lock or reject reason, a ref, a word the
  // parser did not know): a known secret pasted into it is masked here, whatever the command. An
  // answer that redacted its own free text (`redacted`) keeps Raptor's words in it as they are.
  const redact = await redactorFor(deps.engine);
  // Raptor's own text (help) holds nothing of anyone's: only the playbook warning is redacted.
  if (reply.kind === "answer" && reply.own) return { ...reply, text: problem ? `${reply.text}\n⚠ ${redact(problem)}` : reply.text };
  if (reply.kind === "answer" && reply.redacted) return { ...reply, title: redact(reply.title), text: problem ? `${reply.text}\n⚠ ${redact(problem)}` : reply.text };
  const text = problem ? `${reply.text}\n⚠ ${problem}` : reply.text;
  return reply.kind === "answer" ? { ...reply, title: redact(reply.title), text: redact(text) } : { ...reply, text: redact(text) };
}

/** The channel's binding and the playbook's known names, as the parser takes them. */
function parseContextFor(deps: DispatchDeps, req: ChatRequest) {
  const pb = deps.engine.playbook;
  const binding = req.channel ? bindingForChannel(pb, req.channel) : undefined;
  const names = knownNames(pb);
  return { ...binding, apps: names.apps, envs: names.envs, defaultEnvs: names.defaultEnvs };
}

type ParseContext = ReturnType<typeof parseContextFor>;

async function answer(deps: DispatchDeps, req: ChatRequest, parsed: ParseResult, attempt: Attempt | undefined, ctx: ParseContext): Promise<Reply> {
  if (!parsed.ok) {
    // The grammar's reason quotes the word it refused, which may be a secret typed in the wrong
    // place (`"API_TOKEN=s3cret…" is not a valid environment name`): masked like the text itself,
    // in the reply too, which `raptor say` publishes to every terminal chat.
    const error = maskReason(parsed.error, req.text, ctx);
    // A deployment asked for on a known app+env, by someone who may ask for it, is one `deploys`
    // lists, refused: with its text masked (bot/attempt.ts). Anything else: not the text itself,
    // its first word when plain, and its size, say enough.
    if (attempt && (await mayAsk(deps, req, attempt))) {
      const redact = await redactorFor(deps.engine);
      const reason = refusalReason(error, attempt);
      await audit(deps.engine, req.actor.id, attempt.action, "refused", { app: attempt.app, env: attempt.env, detail: { summary: redact(attempt.summary), code: "parse_error", reason } });
    } else {
      await audit(deps.engine, req.actor.id, "parse", "parse_error", { detail: { verb: unparsedVerb(req.text, ctx), length: req.text.length } });
    }
    return { kind: "parse_error", text: error };
  }
  const cmd = parsed.command;
  try {
    const refusal = await authorize(deps, req, cmd);
    if (refusal) {
      await audit(deps.engine, req.actor.id, cmd.kind, "refused", { ...appEnv(cmd), detail: { summary: maskCommandText(summaryOf(req.text), parsed, ctx), reason: maskReason(refusal.text, req.text, ctx) } });
      return refusal;
    }
    if (isQuery(cmd) || !deps.answers) return await execute(deps, req, cmd, ctx);
    try {
      return await execute(deps, req, cmd, ctx);
    } finally {
      deps.answers.clear();
    }
  } catch (err) {
    if (err instanceof EngineError) {
      const refused: Reply = { kind: "refused", code: err.code, text: explain(err.code, err.message) };
      // What `deploys` shows later: the command as typed (secrets masked) and why, in words.
      const reason = maskReason(refusalReason(refused.text, appEnv(cmd)), req.text, ctx);
      await audit(deps.engine, req.actor.id, cmd.kind, "refused", { ...appEnv(cmd), detail: { summary: maskCommandText(summaryOf(req.text), parsed, ctx), code: err.code, reason } });
      return err.opts.confirm ? { ...refused, confirm: err.opts.confirm } : refused;
    }
    throw err;
  }
}

function isQuery(cmd: Command): boolean {
  return ["status", "releases", "logs", "config", "apps", "hosts", "queue", "beat", "help", "deploys", "who-deployed", "plan"].includes(cmd.kind);
}

function appEnv(cmd: Command): { app?: string; env?: string } {
  return { app: "app" in cmd ? cmd.app : undefined, env: "env" in cmd ? cmd.env : undefined };
}

/** Checks the playbook's access list for the command; approve/reject/cancel look up their deployment. */
async function authorize(deps: DispatchDeps, req: ChatRequest, cmd: Command): Promise<Reply | undefined> {
  const action = actionFor(cmd.kind);
  if (!action) return undefined;
  let app: string | undefined;
  let env: string | undefined;
  if ("id" in cmd) {
    const d = await deploymentById(deps.engine.db, cmd.id);
    if (!d) return { kind: "refused", code: "not_found", text: `there is no deployment ${cmd.id}. \`queue\` lists the open ones.` };
    // The requester may always cancel their own deployment.
    if (cmd.kind === "cancel" && d.requestedBy === req.actor.id) return undefined;
    ({ app, env } = d);
  } else {
    ({ app, env } = appEnv(cmd));
  }
  const found = app && env ? environmentOf(deps.engine.playbook, app, env) : undefined;
  if (!found) return { kind: "refused", code: "not_found", text: `there is no environment ${env} for app ${app}.` };
  const list = accessList(found.environment, action);
  if (list.length === 0 || (await deps.authorizer.allowed(req.actor, list))) return undefined;
  const verb =
    cmd.kind === "config-set" || cmd.kind === "config-unset"
      ? "change the config of"
      : cmd.kind === "approve" || cmd.kind === "reject"
        ? `${cmd.kind} deployments of`
        : cmd.kind === "logs"
          ? "read the logs of"
          : cmd.kind === "config"
            ? "see the config of"
            : `${cmd.kind}`;
  const hint = deps.authorizer.denied?.(req.actor, list);
  return { kind: "refused", code: "policy_denied", text: `you may not ${verb} ${app} ${env}. Who may: ${describeList(list)}.${hint ? ` ${hint}` : ""}` };
}

/**
 * Whether `req`'s author may ask for what `attempt` names (its environment's access list for the
 * verb): only then is a refused attempt recorded where `deploys` lists it (red team L4: anyone
 * could fill any app+env's `deploys` with refusals). Others' mistypes stay bare parse errors.
 */
async function mayAsk(deps: DispatchDeps, req: ChatRequest, attempt: Attempt): Promise<boolean> {
  const found = environmentOf(deps.engine.playbook, attempt.app, attempt.env);
  if (!found) return false;
  const action = actionFor(attempt.action);
  const list = action ? accessList(found.environment, action) : [];
  return list.length === 0 || (await deps.authorizer.allowed(req.actor, list));
}

/** What the person asked for, as the thread and the audit log show it: the text without a leading mention. */
function summaryOf(text: string): string {
  return text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*/, "").trim().slice(0, 200);
}

/** The engine's plan request for a command `plan` shows, with whether the asker may run it. */
async function planRequest(deps: DispatchDeps, req: ChatRequest, of: PlannableCommand): Promise<PlanRequest> {
  const found = environmentOf(deps.engine.playbook, of.app, of.env);
  const list = found ? accessList(found.environment, actionFor(of.kind)!) : [];
  const access = { allowed: list.length === 0 || (await deps.authorizer.allowed(req.actor, list)), who: list };
  const base = { app: of.app, env: of.env, access };
  switch (of.kind) {
    case "deploy":
      return { ...base, kind: "deploy", params: { ...(of.ref !== undefined ? { ref: of.ref } : {}), force: of.force } };
    case "promote":
      return { ...base, kind: "deploy", params: {}, promoteFrom: of.from };
    case "rollback":
      return { ...base, kind: "rollback", params: { ...(of.release !== undefined ? { release: of.release } : {}), ...(of.confirmed ? { confirmed: true } : {}) } };
    case "scale":
      return { ...base, kind: "scale", params: { scale: of.scale, ...(of.confirmed ? { confirmed: true } : {}) } };
    case "config-set":
      return { ...base, kind: "config", params: { vars: of.vars, ...(of.secret ? { secretKeys: Object.keys(of.vars) } : {}) } };
    case "config-unset":
      return { ...base, kind: "config", params: { keys: of.keys } };
  }
}

async function execute(deps: DispatchDeps, req: ChatRequest, cmd: Command, ctx: ParseContext): Promise<Reply> {
  const engine = deps.engine;
  const actor = req.actor.id;
  // What the thread, the audit row and `deploys` repeat of the command: masked (bot/typed-text.ts).
  const summary = maskTyped(summaryOf(req.text), ctx, plainConfig(cmd));
  const work = (r: Omit<DeploymentRequest, "requestedBy" | "origin" | "summary">) =>
    requestDeployment(engine, { ...r, requestedBy: actor, origin: req.origin, summary }).then((d): Reply => ({
      kind: "deployment",
      deploymentId: d.id,
      since: streamIdBefore(d.queuedEvent.id),
      text:
        d.status === "awaiting_approval"
          ? `${d.id} is waiting for approval.`
          : d.behind.length
            ? `${d.id} is queued behind ${d.behind.join(", ")}.`
            : `${d.id} is queued.`,
    }));
  switch (cmd.kind) {
    case "deploy":
      return work({ kind: "deploy", app: cmd.app, env: cmd.env, params: { ref: cmd.ref, force: cmd.force } });
    case "rollback":
      return work({ kind: "rollback", app: cmd.app, env: cmd.env, params: cmd.confirmed ? { release: cmd.release, confirmed: true } : { release: cmd.release } });
    case "scale":
      return work({ kind: "scale", app: cmd.app, env: cmd.env, params: cmd.confirmed ? { scale: cmd.scale, confirmed: true } : { scale: cmd.scale } });
    case "restart":
      return work({ kind: "restart", app: cmd.app, env: cmd.env, params: { proc: cmd.proc } });
    case "config-set":
      return work({ kind: "config", app: cmd.app, env: cmd.env, params: cmd.secret ? { vars: cmd.vars, secretKeys: Object.keys(cmd.vars) } : { vars: cmd.vars } });
    case "config-unset":
      return work({ kind: "config", app: cmd.app, env: cmd.env, params: { keys: cmd.keys } });
    case "promote": {
      const d = await requestPromotion(engine, { app: cmd.app, env: cmd.env, from: cmd.from, requestedBy: actor, origin: req.origin, summary });
      return {
        kind: "deployment",
        deploymentId: d.id,
        since: streamIdBefore(d.queuedEvent.id),
        text: d.status === "awaiting_approval" ? `${d.id} is waiting for approval.` : d.behind.length ? `${d.id} is queued behind ${d.behind.join(", ")}.` : `${d.id} is queued.`,
      };
    }
    case "plan": {
      const planned = await planRequest(deps, req, cmd.of);
      const plan = await planChange(engine, planned);
      await audit(engine, actor, "plan", "answered", { ...appEnv(cmd), detail: { of: cmd.of.kind } });
      // The command is echoed back masked like everywhere (bot/typed-text.ts), then redacted.
      const redact = await redactorFor(engine, cmd.app, cmd.env, pendingSecrets(planned.params));
      const typed = summaryOf(req.text).replace(/^plan\s+/i, "");
      const shown = redact(maskTyped(typed, ctx, plainConfig(cmd)));
      return { kind: "answer", ...planText(plan, shown, shown !== typed) };
    }
    case "lock":
    {
      // A reason is typed text, kept and shown to everyone (status, the lock's end): masked like the rest.
      const reason = cmd.reason === undefined ? undefined : maskTyped(cmd.reason, ctx);
      const until = await lockEnvironment(engine, cmd.app, cmd.env, actor, reason, cmd.forMs, lockEndOrigin(deps.engine.playbook, cmd, req));
      const end = until ? ` until ${utcTimeEnd(until)} (or \`unlock ${cmd.app} ${cmd.env}\`)` : ` until \`unlock ${cmd.app} ${cmd.env}\``;
      return { kind: "done", text: `${cmd.app} ${cmd.env} is locked${reason ? ` (${reason})` : ""}. Nothing deploys there${end}.` };
    }
    case "unlock":
      return (await unlockEnvironment(engine, cmd.app, cmd.env, actor))
        ? { kind: "done", text: `${cmd.app} ${cmd.env} is unlocked.` }
        : { kind: "done", text: `${cmd.app} ${cmd.env} was not locked.` };
    case "approve":
      await decideApproval(engine, cmd.id, actor, "approved");
      return { kind: "done", deploymentId: cmd.id, text: `${cmd.id} approved; it is queued.` };
    case "reject":
      await decideApproval(engine, cmd.id, actor, "rejected", cmd.reason === undefined ? undefined : maskTyped(cmd.reason, ctx));
      return { kind: "done", deploymentId: cmd.id, text: `${cmd.id} rejected.` };
    case "cancel": {
      const how = await cancelDeployment(engine, cmd.id, actor);
      return {
        kind: "done",
        deploymentId: cmd.id,
        text: how.kind === "cancelled" ? `${cmd.id} cancelled.` : `${cmd.id} stops before its next step${how.step ? ` (it is at ${how.step.replace(/_/g, " ")})` : ""} and cleans up.`,
      };
    }
    case "status":
    case "releases":
    case "logs":
    case "config":
    case "apps":
    case "hosts":
    case "queue":
    case "beat":
    case "show":
    case "help":
    case "deploys":
    case "who-deployed": {
      const answer = deps.answers && cmd.kind !== "help" ? await deps.answers.get(JSON.stringify(cmd), () => answerQuery(engine, cmd)) : await answerQuery(engine, cmd);
      await audit(engine, actor, cmd.kind, "answered", appEnv(cmd));
      return answer;
    }
    default: {
      const never: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Where the end of a timed lock is said besides the environment's channels: the thread the `lock`
 * was typed in, or its channel when that is not one of the environment's own (which hear it
 * anyway: said there twice before). Undefined: the environment's channels only.
 */
export function lockEndOrigin(pb: Playbook, where: { app: string; env: string }, req: Pick<ChatRequest, "origin" | "channel">): string | undefined {
  const o = parseOrigin(req.origin);
  if (o.kind !== "slack" || o.threadTs !== undefined || !req.channel) return req.origin;
  const env = environmentOf(pb, where.app, where.env)?.environment;
  return env && boundToChannel(env, req.channel) ? undefined : req.origin;
}

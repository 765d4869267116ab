import { maskCommandText } from "./command-log.ts";
import type { ParseResult } from "./command.ts";
import { dispatch, type DispatchDeps } from "./dispatch.ts";
import type { Actor, Reply } from "./dispatch-types.ts";
import { replyLines } from "./terminal.ts";
import { publishSaid } from "./terminal-feed.ts";
import { redactorFor } from "../engine/redact.ts";
import { knownNames } from "../playbooks/resolve.ts";

/**
 * One command said from a shell (`raptor say`), as the terminal chats open on the same Raptor
 * (`make run`'s) see it, in a channel's order: its echo, then its reply, then what it caused in a
 * thread. The echo is published before the command runs (`phase: "asked"`, naming the deployment an
 * `approve`/`reject`/`cancel` decides, whose thread lines the chats hold until the reply), and the
 * reply after (`"answered"`): published after only, an approval's "✓ approved by lead" came before
 * the echo of lead's `approve` (new-user trial). The text is published with its secrets masked.
 * `pid`: the process the chats take it from (they skip their own). Returns the reply.
 */
export async function sayAndPublish(deps: DispatchDeps, said: { text: string; actor: Actor; parsed: ParseResult; pid?: number }): Promise<Reply> {
  const { engine } = deps;
  const pid = said.pid ?? process.pid;
  const text = (await redactorFor(engine))(maskCommandText(said.text, said.parsed, knownNames(engine.playbook)));
  const cmd = said.parsed.ok ? said.parsed.command : undefined;
  const decides = cmd && (cmd.kind === "approve" || cmd.kind === "reject" || cmd.kind === "cancel") ? cmd.id : undefined;
  await publishSaid(engine.redis, engine.prefix, { actor: said.actor.id, text, lines: [], pid, phase: "asked", ...(decides ? { deploymentId: decides } : {}) });
  const reply = await dispatch(deps, { text: said.text, actor: said.actor, origin: "terminal" });
  const decided = reply.kind === "deployment" || reply.kind === "done" ? reply.deploymentId : undefined;
  await publishSaid(engine.redis, engine.prefix, {
    actor: said.actor.id,
    text,
    lines: replyLines(reply),
    pid,
    phase: "answered",
    // An answer that redacted its own free text (deploys, status) is printed as it is too (red team 2 N4).
    ...(reply.kind === "answer" && (reply.own || reply.redacted) ? { own: true as const } : {}),
    ...(decided ? { deploymentId: decided } : {}),
    ...(reply.kind === "deployment" && reply.since ? { since: reply.since } : {}),
  });
  return reply;
}

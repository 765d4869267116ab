import { verbatim } from "../../lib/verbatim.ts";
import { utcTimeEnd } from "../../lib/time-text.ts";
import { allHosts, hostKey } from "../../db/queries/hosts.ts";
import { environmentLock } from "../../db/queries/locks.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { liveLogs, livePoolNodes, liveStates } from "../../engine/host-reads.ts";
import { redactorFor } from "../../engine/redact.ts";
import { currentRelease } from "../../db/queries/releases.ts";
import { liveProcs, liveProcsOnHosts } from "../../db/queries/procs.ts";
import type { Command } from "../command.ts";
import type { Reply } from "../dispatch-types.ts";
import type { Environment } from "../../playbooks/types.ts";
import { notFound } from "./catalog.ts";
import { procTypeProblem, procTypesOf } from "../../engine/preflight.ts";
import { strong } from "../notify/markup.ts";
import { routingView, type RoutedProc, type RoutingView } from "./routing.ts";
import { hostLine } from "./hosts-text.ts";
import { onSquad } from "../../playbooks/resolve.ts";

/** What the environment's balancer routes, read live (a balancer that does not answer is reported, not fatal). */
async function routingOf(deps: EngineApiDeps, environment: Environment, live: RoutedProc[]): Promise<RoutingView | undefined> {
  const { balancer: name, pool } = environment;
  const config = name ? deps.playbook.balancers[name] : undefined;
  if (!config || !pool) return undefined;
  let nodes: string[] | string;
  try {
    nodes = await livePoolNodes(deps, config.name, pool);
  } catch (err) {
    nodes = (err as Error).message;
  }
  return routingView(config.name, config.kind, pool, nodes, live);
}

/**
 * A lock as `status` shows it: who holds it, why, and when it ends (a timed lock, released by the
 * beat then) or that it holds until `unlock`. Times in UTC, to the minute. Pure.
 */
export function lockText(lock: { heldBy: string; reason: string | null; expiresAt: Date | null }): string {
  const why = lock.reason ? ` (${verbatim(lock.reason)})` : "";
  const end = lock.expiresAt ? ` until ${utcTimeEnd(lock.expiresAt)}` : " until unlocked";
  return `locked by ${lock.heldBy}${why}${end}`;
}

export async function statusAnswer(deps: EngineApiDeps, app: string, env?: string): Promise<Reply> {
  const a = deps.playbook.apps[app];
  if (!a) return notFound(app);
  const envs = env ? [env] : Object.keys(a.environments);
  // Only the free text (a lock's reason, a host's or balancer's error) goes through the redactor:
  // proc states are Raptor's and supervisord's words, hosts and procs checked names (red team 2 N4).
  const redact = await redactorFor(deps, app, env);
  const blocks: string[] = [];
  for (const e of envs) {
    const environment = a.environments[e];
    if (!environment) return notFound(app, e);
    const cur = await currentRelease(deps.db, app, e);
    const lock = await environmentLock(deps.db, app, e, deps.now?.() ?? new Date());
    const live = await liveProcs(deps.db, app, e);
    const states = await liveStates(deps, environment.squad, [...new Set(live.map((p) => p.host))]);
    const routing = await routingOf(deps, environment, live);
    const lines = [`${strong(`${app} ${e}`)}: ${cur ? `v${cur.number}` : "never deployed"}${lock ? ` — ${lockText({ ...lock, reason: lock.reason === null ? null : redact(lock.reason) })}` : ""}`];
    for (const [host, onHost] of groupBy(live, (p) => p.host)) {
      const st = states.get(host);
      const shown = onHost.map((p) => `${p.name} ${typeof st === "string" ? "?" : (st?.[p.name] ?? "MISSING")}${routing?.notRouted.has(p.name) ? " (not routed)" : ""}`);
      lines.push(`  ${host}${typeof st === "string" ? ` (${redact(st)})` : ""}: ${shown.join(", ")}`);
    }
    if (live.length === 0) lines.push("  no procs");
    if (routing) lines.push(`  ${redact(routing.line)}`);
    blocks.push(lines.join("\n"));
  }
  const more = env ? undefined : `\`status ${app} <env>\` shows one environment.`;
  return { kind: "answer", title: `status of ${app}${env ? ` ${env}` : ""}`, text: blocks.join("\n\n"), redacted: true, ...(more ? { overflow: { keep: "head" as const, more } } : {}) };
}

export async function logsAnswer(deps: EngineApiDeps, cmd: Extract<Command, { kind: "logs" }>): Promise<Reply> {
  const found = deps.playbook.apps[cmd.app]?.environments[cmd.env];
  if (!found) return notFound(cmd.app, cmd.env);
  if (cmd.proc !== undefined) {
    // The same refusal as scale and restart: "no procs running" hid the typo (new-user trial, finding 8).
    const problem = procTypeProblem(cmd.app, cmd.proc, await procTypesOf(deps.db, found));
    if (problem) return { kind: "refused", code: "invalid", text: problem };
  }
  const lines = cmd.lines ?? 20;
  const live = (await liveProcs(deps.db, cmd.app, cmd.env)).filter((p) => !cmd.proc || p.procType === cmd.proc);
  if (live.length === 0) return { kind: "answer", title: `logs of ${cmd.app} ${cmd.env}`, text: `no ${cmd.proc ? `${cmd.proc} ` : ""}procs running` };
  // Playbook secrets and `config set` values alike: people put API keys in both.
  const redact = await redactorFor(deps, cmd.app, cmd.env);
  const bytes = lines * 200;
  const shown = live.slice(0, 10);
  const tails = await liveLogs(deps, found.squad, shown, bytes);
  const parts = shown.map((p) => {
    const t = tails.get(p.name);
    return t && "text" in t
      ? `── ${p.name} on ${p.host}\n${redactedTail(t.text, bytes, lines, redact)}`
      : `── ${p.name} on ${p.host}\n(unavailable: ${redact(t?.error ?? "no answer")})`;
  });
  // Too long for one chat message: the tail is shown (the latest lines), the whole in a file.
  const overflow = { keep: "tail" as const, more: `\`logs ${cmd.app} ${cmd.env} ${cmd.proc ?? shown[0]!.procType} 50\` shows fewer lines.`, file: `logs-${cmd.app}-${cmd.env}${cmd.proc ? `-${cmd.proc}` : ""}.txt` };
  return { kind: "answer", title: `logs of ${cmd.app} ${cmd.env}${cmd.proc ? ` ${cmd.proc}` : ""}`, text: parts.join("\n"), overflow, verbatim: true };
}

/**
 * The last `lines` lines of a log tail fetched as its last `bytes` bytes, redacted BEFORE it is
 * cut (pure): a byte window may begin inside a secret, which no redactor can recognise by its
 * second half, so that first partial line is dropped and the rest is redacted whole.
 */
export function redactedTail(text: string, bytes: number, lines: number, redact: (t: string) => string): string {
  const partial = Buffer.byteLength(text) >= bytes;
  const nl = text.indexOf("\n");
  const whole = !partial ? text : nl < 0 ? "" : text.slice(nl + 1);
  return redact(whole).split("\n").slice(-lines).join("\n");
}

export async function hostsAnswer(deps: EngineApiDeps, squadName?: string): Promise<Reply> {
  const squads = Object.values(deps.playbook.squads).filter((s) => !squadName || s.name === squadName);
  if (squads.length === 0) return { kind: "refused", code: "not_found", text: `there is no squad ${squadName}. Squads: ${Object.keys(deps.playbook.squads).join(", ")}.` };
  const rows = new Map((await allHosts(deps.db)).map((h) => [hostKey(h.squad, h.name), h]));
  const now = deps.now?.() ?? new Date();
  const lines: string[] = [];
  for (const s of squads) {
    lines.push(`${strong(s.name)} (${s.transport}, ports ${s.ports.from}-${s.ports.to})`);
    const live = (await liveProcsOnHosts(deps.db, s.hosts)).filter((p) => onSquad(deps.playbook, s.name, p));
    for (const h of s.hosts) lines.push(hostLine(h, live.filter((p) => p.host === h).length, rows.get(hostKey(s.name, h)), s.ports, now));
  }
  return { kind: "answer", title: "hosts", text: lines.join("\n"), ...(squadName ? {} : { overflow: { keep: "head" as const, more: "`hosts <squad>` shows one squad." } }) };
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of list) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}


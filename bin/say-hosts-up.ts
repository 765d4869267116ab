import { connect } from "node:net";
import type { Command } from "../bot/command.ts";
import type { Playbook, Squad } from "../playbooks/types.ts";

/**
 * `raptor say` with nothing else running (no `make run`, no `raptor worker`) runs the deployment
 * it asks for itself, on this machine. When the target's squad runs on this machine and its
 * supervisord does not answer, every such deployment builds, cuts a release and then fails at
 * `start` (new-user trial, finding 11: 8.4 s, a failed release, advice meant for a production
 * server). Checked before anything is asked for: a refusal at once, with `make run` as the fix on
 * the embedded demo.
 */

/** The commands that ask for a deployment, which starts or stops procs through supervisord. */
const DEPLOYING = ["deploy", "rollback", "scale", "restart", "config-set", "config-unset", "promote"] as const;
type Deploying = Extract<Command, { kind: (typeof DEPLOYING)[number] }>;

/** Whether `cmd` asks for a deployment (and so needs its squad's supervisords). */
export function asksForDeployment(cmd: Command): cmd is Deploying {
  return (DEPLOYING as readonly string[]).includes(cmd.kind);
}

/** A supervisord this machine must run for `squad`: its `{host}`-expanded URL, host and port. */
export interface LocalSupervisor {
  url: string;
  host: string;
  port: number;
}

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|\[?::1\]?|localhost)$/i;

/**
 * The supervisords of a squad on this machine (`transport: local`, a loopback URL), one per host;
 * empty for a squad reached over SSH or a supervisord elsewhere, which say cannot judge. Pure.
 */
export function localSupervisors(squad: Squad): LocalSupervisor[] {
  if (squad.transport !== "local") return [];
  const out: LocalSupervisor[] = [];
  for (const host of squad.hosts) {
    const url = squad.supervisor.url.replaceAll("{host}", host);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (!LOOPBACK.test(parsed.hostname)) continue;
    const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
    out.push({ url: `${parsed.protocol}//${parsed.host}${parsed.pathname}`, host: parsed.hostname.replace(/^\[|\]$/g, ""), port });
  }
  return out;
}

/** Whether something accepts a TCP connection at host:port within `timeoutMs`: undefined if so, else the error code. */
export function tcpProbe(host: string, port: number, timeoutMs = 1_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done("ETIMEDOUT"));
    socket.once("connect", () => done(undefined));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/**
 * What say answers instead of asking for the deployment. `makeRun`: the embedded demo (no
 * DATABASE_URL) with `make run` not running, whose supervisord `make run` starts. Pure.
 */
export function supervisorDownText(o: { said: string; squad: string; down: LocalSupervisor; why: string; makeRun: boolean }): string {
  const at = `${o.down.host}:${o.down.port}`;
  if (o.makeRun) {
    return `make run is not running, so the demo's supervisord (${at}) is not either and \`${o.said}\` could not start a proc. Start it with \`make run\` in another terminal, then try again. Nothing was queued.`;
  }
  return `squad ${o.squad}'s supervisord does not answer at ${at} (${o.why}), so \`${o.said}\` could not start a proc. Start that supervisord (for the demo: \`make run\`), then try again. Nothing was queued.`;
}

/**
 * Why `cmd` cannot be deployed from this say now, or undefined when it may be asked for: only a
 * deploying command whose environment's squad runs here, one of whose supervisords refuses.
 */
export async function localSupervisorDown(playbook: Playbook, cmd: Command, said: string, makeRun: boolean): Promise<string | undefined> {
  if (!asksForDeployment(cmd)) return undefined;
  const squadName = playbook.apps[cmd.app]?.environments[cmd.env]?.squad;
  const squad = squadName ? playbook.squads[squadName] : undefined;
  if (!squad) return undefined;
  for (const s of localSupervisors(squad)) {
    const why = await tcpProbe(s.host, s.port);
    if (why) return supervisorDownText({ said, squad: squad.name, down: s, why, makeRun });
  }
  return undefined;
}

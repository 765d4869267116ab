/** `squads:` — pools of identically provisioned hosts. */
import { z } from "zod";
import { MAX_PORT_RANGE, MIN_PROC_PORT } from "../../lib/limits.ts";
import type { Squad, SshSettings } from "../types.ts";
import { nonEmptyString, ssh, stringList, strict, withHostPlaceholder, type IssueParams } from "./common.ts";
import { hostProblem, rootProblem } from "./hosts.ts";
import { DEFAULT_PROC_USER, procUserProblem } from "../../lib/proc-user-name.ts";

export const DEFAULT_SUPERVISOR_URL = "http://{host}:9001/RPC2";
export const DEFAULT_PORTS = { from: 5000, to: 5999 };
export const DEFAULT_ROOT = "/apps";
/** A user or group name, or a template with `{app}` (lib/proc-user-name.ts). */
const unixName = z.string().superRefine((v, ctx) => {
  const problem = procUserProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const COMPLETE: IssueParams = { complete: true };
const PORTS_RULE = "must be a port range like 5000-5999";

/** `5000-5999`, a single port `5000`, or `{ from: 5000, to: 5999 }` -> `{from, to}`. */
export const portRange = z.unknown().transform((v, ctx): { from: number; to: number } => {
  let from: unknown;
  let to: unknown;
  const m = typeof v === "string" ? /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(v) : null;
  if (m) [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
  else if (typeof v === "number") [from, to] = [v, v];
  else if (v !== null && typeof v === "object" && !Array.isArray(v)) [from, to] = [(v as Record<string, unknown>).from, (v as Record<string, unknown>).to];
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n);
  if (!ok(from) || !ok(to)) {
    ctx.issues.push({ code: "custom", message: PORTS_RULE, input: v });
    return z.NEVER;
  }
  if (from < 1 || to > 65_535) {
    ctx.issues.push({ code: "custom", message: "must stay within ports 1-65535", input: v });
    return z.NEVER;
  }
  if (from > to) {
    ctx.issues.push({ code: "custom", message: `must start with the lower port (${to}-${from})`, input: v });
    return z.NEVER;
  }
  if (from < MIN_PROC_PORT) {
    ctx.issues.push({ code: "custom", message: `must start at port ${MIN_PROC_PORT} or above (ports below ${MIN_PROC_PORT} are privileged: procs, which do not run as root, cannot bind them)`, input: v });
    return z.NEVER;
  }
  if (to - from + 1 > MAX_PORT_RANGE) {
    ctx.issues.push({ code: "custom", message: `must span at most ${MAX_PORT_RANGE.toLocaleString("en")} ports (it spans ${(to - from + 1).toLocaleString("en")}), like 5000-5999: a wider range reaches into the ports outgoing connections take`, input: v });
    return z.NEVER;
  }
  return { from, to };
});

const supervisor = strict({
  url: withHostPlaceholder("must be the supervisord XML-RPC URL").default(DEFAULT_SUPERVISOR_URL),
  username: nonEmptyString().optional(),
  password: nonEmptyString().optional(),
});

export const squadSchema = strict({
  hosts: stringList("must be a list of host names").superRefine((hosts, ctx) => {
    if (hosts.length === 0) ctx.addIssue({ code: "custom", message: "must list at least one host" });
    hosts.forEach((host, i) => {
      if (hosts.indexOf(host) < i) ctx.addIssue({ code: "custom", path: [i], message: `lists "${host}" twice`, params: COMPLETE });
      const problem = hostProblem(host);
      if (problem) ctx.addIssue({ code: "custom", path: [i], message: problem, params: COMPLETE });
    });
  }),
  transport: z.enum(["ssh", "local"], { error: 'must be "ssh" or "local"' }).default("ssh"),
  ssh: ssh.optional(),
  supervisor: supervisor.optional(),
  ports: portRange.optional(),
  root: withHostPlaceholder("must be a directory path").default(DEFAULT_ROOT),
  user: unixName.default(DEFAULT_PROC_USER),
  group: unixName.optional(),
})
  .superRefine(
    (s, ctx) => {
      // Runs even when other keys are wrong (the value may then be partly unvalidated input).
      if (s === null || typeof s !== "object") return;
      const ssh = s.ssh as unknown;
      const user = ssh !== null && typeof ssh === "object" ? (ssh as { user?: unknown }).user : undefined;
      // The root's rule depends on the transport (a local one may be relative); see hosts.ts.
      if (typeof s.root === "string") {
        const problem = rootProblem(s.root, s.transport === "local" ? "local" : "ssh");
        if (problem) ctx.addIssue({ code: "custom", path: ["root"], message: problem, input: s.root });
      }
      if (s.transport === "ssh" && (user === undefined || user === "")) {
        const path = ssh !== null && typeof ssh === "object" ? ["ssh", "user"] : ["ssh"];
        ctx.addIssue({ code: "custom", path, message: "is required when transport is ssh (the user Raptor logs in as)", params: COMPLETE });
      }
    },
    { when: () => true },
  )
  .transform((s): Omit<Squad, "name"> => {
  const sshSettings: SshSettings = { user: s.ssh?.user ?? "", port: s.ssh?.port ?? 22 };
  if (s.ssh?.key !== undefined) sshSettings.key = s.ssh.key;
  if (s.ssh?.known_hosts !== undefined) sshSettings.known_hosts = s.ssh.known_hosts;
  const sup: Squad["supervisor"] = { url: s.supervisor?.url ?? DEFAULT_SUPERVISOR_URL };
  if (s.supervisor?.username !== undefined) sup.username = s.supervisor.username;
  if (s.supervisor?.password !== undefined) sup.password = s.supervisor.password;
  const squad: Omit<Squad, "name"> = { hosts: s.hosts, transport: s.transport, ssh: sshSettings, supervisor: sup, ports: s.ports ?? DEFAULT_PORTS, root: s.root, user: s.user };
  if (s.group !== undefined) squad.group = s.group;
  return squad;
});

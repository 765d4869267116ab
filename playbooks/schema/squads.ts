/** `squads:` — pools of identically provisioned hosts. */
import { z } from "zod";
import type { Squad, SshSettings } from "../types.ts";
import { nonEmptyString, ssh, stringList, strict, withHostPlaceholder, type IssueParams } from "./common.ts";

export const DEFAULT_SUPERVISOR_URL = "http://{host}:9001/RPC2";
export const DEFAULT_PORTS = { from: 5000, to: 5999 };
export const DEFAULT_ROOT = "/apps";

const PORTS_RULE = "must be a port range like 5000-5999";

/** `5000-5999`, a single port `5000`, or `{ from: 5000, to: 5999 }` -> `{from, to}`. */
export const portRange = z.unknown().transform((v, ctx): { from: number; to: number } => {
  if (v === undefined) return DEFAULT_PORTS;
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
  return { from, to };
});

const supervisor = strict({
  url: withHostPlaceholder("must be the supervisord XML-RPC URL").default(DEFAULT_SUPERVISOR_URL),
  username: nonEmptyString().optional(),
  password: nonEmptyString().optional(),
});

export const squadSchema = strict({
  hosts: stringList("must be a list of host names").refine((hosts) => hosts.length > 0, { error: "must list at least one host" }),
  transport: z.enum(["ssh", "local"], { error: 'must be "ssh" or "local"' }).default("ssh"),
  ssh: ssh.optional(),
  supervisor: supervisor.optional(),
  ports: portRange,
  root: withHostPlaceholder("must be a directory path").default(DEFAULT_ROOT),
}).transform((s, ctx): Omit<Squad, "name"> => {
  const seen = new Set<string>();
  s.hosts.forEach((host, i) => {
    if (seen.has(host)) {
      ctx.issues.push({ code: "custom", path: ["hosts", i], input: host, message: `lists "${host}" twice`, params: { complete: true } satisfies IssueParams });
    }
    seen.add(host);
  });
  if (s.transport === "ssh" && !s.ssh?.user) {
    ctx.issues.push({
      code: "custom",
      path: s.ssh ? ["ssh", "user"] : ["ssh"],
      input: undefined,
      message: "is required when transport is ssh (the user Raptor logs in as)",
      params: { complete: true } satisfies IssueParams,
    });
  }
  const sshSettings: SshSettings = { user: s.ssh?.user ?? "", port: s.ssh?.port ?? 22 };
  if (s.ssh?.key !== undefined) sshSettings.key = s.ssh.key;
  if (s.ssh?.known_hosts !== undefined) sshSettings.known_hosts = s.ssh.known_hosts;
  const sup: Squad["supervisor"] = { url: s.supervisor?.url ?? DEFAULT_SUPERVISOR_URL };
  if (s.supervisor?.username !== undefined) sup.username = s.supervisor.username;
  if (s.supervisor?.password !== undefined) sup.password = s.supervisor.password;
  return { hosts: s.hosts, transport: s.transport, ssh: sshSettings, supervisor: sup, ports: s.ports, root: s.root };
});

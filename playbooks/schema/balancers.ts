/**
 * `balancers:` — load balancer backends that keep pools of `host:port` nodes (issue #10's
 * contract). Every key is known: a key the kind does not read is refused (`socket` on nginx), a
 * typo gets a did-you-mean, and each kind's required keys are checked, all as `file:line` issues.
 * Defaults per kind are in `defaultsFor`; the loader's output is a `BalancerConfig`.
 */
import path from "node:path";
import { z } from "zod";
import type { BalancerConfig, BalancerKind, SshSettings } from "../types.ts";
import { flag, nonEmptyString, ssh, strict, stringList, type IssueParams } from "./common.ts";

export const BALANCER_KINDS = ["nginx", "varnish", "haproxy", "stingray", "memory"] as const satisfies readonly BalancerKind[];

/** Keys every kind accepts. */
const COMMON_KEYS = ["kind", "hosts", "transport", "ssh"] as const;

/** The keys each kind reads besides COMMON_KEYS. */
export const KIND_KEYS: Record<BalancerKind, readonly string[]> = {
  nginx: ["include_dir", "validate", "reload"],
  varnish: ["include_dir", "validate", "reload", "vcl", "varnishadm"],
  haproxy: ["include_dir", "validate", "reload", "socket"],
  stingray: ["url", "username", "password", "insecure"],
  memory: [],
};

/** Kinds whose pools live in files on the balancer's own hosts (reached over `transport`). */
const HOSTED_KINDS: readonly BalancerKind[] = ["nginx", "varnish", "haproxy"];

export const DEFAULT_VARNISH_VCL = "/etc/varnish/default.vcl";

/**
 * The defaults of a kind, given what was written: nginx validates with `nginx -t` and reloads
 * with `nginx -s reload`; varnish, with no `reload`, loads its main VCL through `varnishadm
 * vcl.load` (which compiles and refuses a bad VCL: the validation) + `vcl.use` (Debian's varnish
 * package ships varnishreload outside PATH, /usr/share/varnish/varnishreload); haproxy checks its main config
 * plus the include_dir and reloads with systemd when a new backend appears.
 */
export function defaultsFor(kind: BalancerKind, b: { include_dir?: string; vcl?: string }): Partial<BalancerConfig> {
  switch (kind) {
    case "nginx":
      return { validate: ["nginx", "-t"], reload: ["nginx", "-s", "reload"] };
    case "varnish":
      // No separate validate by default: the built-in load's `vcl.load` compiles the VCL and
      // refuses it before anything changes (varnishd -C would compile it a second time).
      return { vcl: b.vcl ?? DEFAULT_VARNISH_VCL, varnishadm: ["varnishadm"] };
    case "haproxy":
      return {
        validate: ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg", ...(b.include_dir ? ["-f", b.include_dir] : [])],
        reload: ["systemctl", "reload", "haproxy"],
      };
    case "stingray":
    case "memory":
      return {};
    default: {
      const never: never = kind;
      throw new Error(`unknown balancer kind ${String(never)}`);
    }
  }
}

const COMPLETE: IssueParams = { complete: true };

const argv = z
  .union([z.string(), z.array(nonEmptyString("must be a command argument"))], { error: "must be a command (split on spaces, no shell) or a list of arguments" })
  .transform((v, ctx) => {
    const list = typeof v === "string" ? v.trim().split(/\s+/).filter(Boolean) : v;
    if (list.length === 0) {
      ctx.issues.push({ code: "custom", message: "must not be empty", input: v });
      return z.NEVER;
    }
    return list;
  });

/** A path on the balancer host: no `..`; relative only with `transport: local` (then resolved against the working directory, as a squad's `root`). */
const hostPath = (what: string) =>
  nonEmptyString(`must be the path of ${what}`).refine((p) => !p.split("/").includes(".."), {
    error: `must be the path of ${what} (no ..)`,
  });
const PATH_KEYS = ["include_dir", "vcl", "socket"] as const;

const httpUrl = nonEmptyString("must be an http(s) URL").refine((u) => {
  try {
    return ["http:", "https:"].includes(new URL(u).protocol);
  } catch {
    return false;
  }
}, { error: "must be an http(s) URL like https://vtm.internal:9070/api/tm/7.0" });

const shape = {
  kind: z.enum(BALANCER_KINDS, { error: `must be one of ${BALANCER_KINDS.join(", ")}` }),
  hosts: stringList("must be a list of host names").default([]),
  transport: z.enum(["ssh", "local"], { error: 'must be "ssh" or "local"' }).default("ssh"),
  ssh: ssh.optional(),
  include_dir: hostPath("the directory Raptor writes its pool files to").optional(),
  validate: argv.optional(),
  reload: argv.optional(),
  vcl: hostPath("the main VCL file").optional(),
  varnishadm: argv.optional(),
  socket: hostPath("the runtime API socket").optional(),
  url: httpUrl.optional(),
  username: nonEmptyString("must be a user name").optional(),
  password: nonEmptyString("must be a password").optional(),
  insecure: flag().default(false),
};

export const balancerSchema = strict(shape)
  .superRefine(
    (b, ctx) => {
      // Runs even when some keys are wrong (the value may then be partly unvalidated input).
      if (b === null || typeof b !== "object") return;
      const kind = b.kind as unknown;
      if (typeof kind !== "string" || !(BALANCER_KINDS as readonly string[]).includes(kind)) return;
      const k = kind as BalancerKind;
      const readable = new Set<string>([...COMMON_KEYS, ...KIND_KEYS[k]]);
      for (const key of Object.keys(b)) {
        if (!(key in shape) || readable.has(key)) continue;
        if (key === "insecure" && (b as { insecure?: unknown }).insecure === false) continue; // the default
        ctx.addIssue({ code: "custom", path: [key], message: `is not used by kind ${k} (it reads ${[...readable].join(", ")})`, params: COMPLETE });
      }
      const need = (key: string, why: string) => {
        if ((b as Record<string, unknown>)[key] === undefined) ctx.addIssue({ code: "custom", path: [], message: `needs \`${key}:\` (${why})`, params: COMPLETE });
      };
      const hosts = Array.isArray(b.hosts) ? b.hosts : [];
      if (HOSTED_KINDS.includes(k)) {
        if (hosts.length === 0) ctx.addIssue({ code: "custom", path: ["hosts"], message: `must list at least one host (the ${k} machines Raptor changes)`, params: COMPLETE });
        need("include_dir", `the directory whose pool files Raptor owns, e.g. /etc/${k}/raptor`);
        const sshValue = b.ssh as unknown;
        const user = sshValue !== null && typeof sshValue === "object" ? (sshValue as { user?: unknown }).user : undefined;
        if ((b.transport === undefined || b.transport === "ssh") && (user === undefined || user === "")) {
          const path = sshValue !== null && typeof sshValue === "object" ? ["ssh", "user"] : ["ssh"];
          ctx.addIssue({ code: "custom", path, message: "is required when transport is ssh (the user Raptor logs in as); or set `transport: local`", params: COMPLETE });
        }
      } else if (hosts.length > 0) {
        ctx.addIssue({ code: "custom", path: ["hosts"], message: `must be empty for kind ${k} (it is not reached over SSH)`, params: COMPLETE });
      }
      for (const key of PATH_KEYS) {
        const value = (b as Record<string, unknown>)[key];
        if (b.transport !== "local" && typeof value === "string" && !value.startsWith("/")) {
          ctx.addIssue({ code: "custom", path: [key], message: `must be an absolute path (starting with /) on a host reached over ssh, got "${value}"`, params: COMPLETE });
        }
      }
      if (k === "haproxy") need("socket", "the runtime API socket on each host, e.g. /run/haproxy/admin.sock");
      if (k === "stingray") need("url", "the REST API base, e.g. https://vtm.internal:9070/api/tm/7.0");
      hosts.forEach((host, i) => {
        if (hosts.indexOf(host) < i) ctx.addIssue({ code: "custom", path: ["hosts", i], message: `lists "${String(host)}" twice`, params: COMPLETE });
      });
    },
    { when: () => true },
  )
  .transform((b): Omit<BalancerConfig, "name"> => {
    const sshSettings: SshSettings = { user: b.ssh?.user ?? "", port: b.ssh?.port ?? 22 };
    if (b.ssh?.key !== undefined) sshSettings.key = b.ssh.key;
    if (b.ssh?.known_hosts !== undefined) sshSettings.known_hosts = b.ssh.known_hosts;
    const out: Omit<BalancerConfig, "name"> = { kind: b.kind, hosts: b.hosts, transport: b.transport, ssh: sshSettings, insecure: b.insecure };
    const written = { include_dir: b.include_dir, validate: b.validate, reload: b.reload, vcl: b.vcl, varnishadm: b.varnishadm, socket: b.socket, url: b.url, username: b.username, password: b.password };
    Object.assign(out, defaultsFor(b.kind, written));
    for (const [key, value] of Object.entries(written)) if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
    if (b.transport === "local") for (const key of PATH_KEYS) if (out[key] !== undefined && !path.isAbsolute(out[key]!)) out[key] = path.resolve(out[key]!);
    return out;
  });

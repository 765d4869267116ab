/**
 * `balancers:` — load balancer backends that keep pools of `host:port` nodes. Besides `kind`,
 * `hosts` and `ssh`, keys are backend-specific and kept as written in `options`; a key that is
 * a near miss of a known one (`host`, `realod`) is refused with a did-you-mean.
 */
import { z } from "zod";
import { suggest } from "../../lib/suggest.ts";
import type { BalancerConfig } from "../types.ts";
import { ssh, stringList, type IssueParams } from "./common.ts";

export const BALANCER_KINDS = ["nginx", "varnish", "haproxy", "stingray", "memory"] as const;

const COMMON_KEYS = ["kind", "hosts", "ssh"];
/** Backend options the shipped backends read; others are kept too, for backends to come. */
export const KNOWN_OPTIONS = [
  "include_dir",
  "config_path",
  "reload",
  "validate",
  "socket",
  "backend",
  "url",
  "username",
  "password",
  "insecure",
  "drain",
  "drain_timeout",
];

export const balancerSchema = z
  .object(
    {
      kind: z.enum(BALANCER_KINDS, { error: `must be one of ${BALANCER_KINDS.join(", ")}` }),
      hosts: stringList("must be a list of host names").default([]),
      ssh: ssh.optional(),
    },
    { error: "must be a mapping of keys to values" },
  )
  .catchall(z.unknown())
  .transform((b, ctx): Omit<BalancerConfig, "name"> => {
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(b)) {
      if (COMMON_KEYS.includes(key)) continue;
      if (!KNOWN_OPTIONS.includes(key) && suggest(key, [...COMMON_KEYS, ...KNOWN_OPTIONS])) {
        const params: IssueParams = { unknownKey: true, candidates: [...COMMON_KEYS, ...KNOWN_OPTIONS] };
        ctx.issues.push({ code: "custom", path: [key], input: value, message: "unknown key", params });
      }
      options[key] = value;
    }
    const out: Omit<BalancerConfig, "name"> = { kind: b.kind, hosts: b.hosts, options };
    if (b.ssh) {
      if (!b.ssh.user) {
        const params: IssueParams = { complete: true };
        ctx.issues.push({ code: "custom", path: ["ssh"], input: b.ssh, message: "needs a user (ssh: { user: deploy })", params });
      }
      out.ssh = { user: b.ssh.user ?? "", port: b.ssh.port };
      if (b.ssh.key !== undefined) out.ssh.key = b.ssh.key;
      if (b.ssh.known_hosts !== undefined) out.ssh.known_hosts = b.ssh.known_hosts;
    }
    return out;
  });

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

const CANDIDATES = [...COMMON_KEYS, ...KNOWN_OPTIONS];

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
  .superRefine(
    (b, ctx) => {
      // Runs even when kind or hosts are wrong, so a typo'd key is reported with them.
      if (b === null || typeof b !== "object") return;
      for (const key of Object.keys(b)) {
        if (COMMON_KEYS.includes(key) || KNOWN_OPTIONS.includes(key) || !suggest(key, CANDIDATES)) continue;
        const params: IssueParams = { unknownKey: true, candidates: CANDIDATES };
        ctx.addIssue({ code: "custom", path: [key], message: "unknown key", params });
      }
      const ssh = b.ssh as unknown;
      if (ssh !== null && typeof ssh === "object" && !(ssh as { user?: unknown }).user) {
        const params: IssueParams = { complete: true };
        ctx.addIssue({ code: "custom", path: ["ssh"], message: "needs a user (ssh: { user: deploy })", params });
      }
    },
    { when: () => true },
  )
  .transform((b): Omit<BalancerConfig, "name"> => {
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(b)) if (!COMMON_KEYS.includes(key)) options[key] = value;
    const out: Omit<BalancerConfig, "name"> = { kind: b.kind, hosts: b.hosts, options };
    if (b.ssh) {
      out.ssh = { user: b.ssh.user ?? "", port: b.ssh.port };
      if (b.ssh.key !== undefined) out.ssh.key = b.ssh.key;
      if (b.ssh.known_hosts !== undefined) out.ssh.known_hosts = b.ssh.known_hosts;
    }
    return out;
  });

/**
 * known_hosts: which host key a server may present. Pure: the text of the file in, a verdict out.
 */
import { createHmac } from "node:crypto";

export type KeyVerdict = "ok" | "unknown" | "changed" | "revoked";

/**
 * Checks a server's host key (the SSH wire-format blob) against known_hosts text. Host patterns are
 * `host` for port 22 and `[host]:port` otherwise, comma-separated, with `*`/`?` wildcards, `!`
 * negation and hashed `|1|salt|hash` entries. `@cert-authority` lines are ignored (no certificates).
 */
export function verifyHostKey(knownHosts: string, host: string, port: number, key: Buffer): KeyVerdict {
  const name = port === 22 ? host : `[${host}]:${port}`;
  let sawHost = false;
  for (const raw of knownHosts.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith("@") ? fields.shift() : undefined;
    const [patterns, , base64] = fields;
    if (!patterns || !base64 || marker === "@cert-authority") continue;
    if (!hostMatches(patterns, name)) continue;
    const matches = Buffer.from(base64, "base64").equals(key);
    if (marker === "@revoked") {
      if (matches) return "revoked";
      continue;
    }
    sawHost = true;
    if (matches) return "ok";
  }
  return sawHost ? "changed" : "unknown";
}

function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) {
    const [, , salt, hash] = patterns.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const p of patterns.split(",")) {
    const negated = p.startsWith("!");
    const glob = negated ? p.slice(1) : p;
    const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
    if (re.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

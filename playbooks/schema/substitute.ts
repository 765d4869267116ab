/**
 * `${ENV_VAR}` and `${ENV_VAR:-default}` in string values, substituted at load (before
 * validation, so a port or a count may come from the environment too). `$${X}` is a literal
 * `${X}`. As in the shell, `:-` also applies when the variable is set but empty.
 */
import { ENV_KEY } from "../../lib/names.ts";
import { dotted, type PathKey } from "./issues.ts";

export interface Substituted {
  value: unknown;
  /** Values taken from `env` (defaults written in the playbook are not secret). */
  secrets: string[];
  problems: { path: PathKey[]; message: string }[];
}

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;

/**
 * Raptor's own settings that playbooks may refer to (paths, ports, user names). They are not
 * secrets, and masking them would blank every path under the data directory in chat.
 * A name that looks secret (PASSWORD, TOKEN, SECRET, KEY) is always treated as one.
 */
const NOT_SECRET = /^(RAPTOR_DATA|RAPTOR_[A-Z_]*PORT|RAPTOR_[A-Z_]*USER|HOME|USER)$/;
const LOOKS_SECRET = /PASSWORD|TOKEN|SECRET|KEY/;
const BODY = new RegExp(`^(${ENV_KEY.source.slice(1, -1)})(?::-([\\s\\S]*))?$`);

export function substitute(value: unknown, env: Record<string, string | undefined>): Substituted {
  const out: Substituted = { value: undefined, secrets: [], problems: [] };
  out.value = walk(value, [], env, out);
  return out;
}

function walk(value: unknown, path: PathKey[], env: Record<string, string | undefined>, out: Substituted): unknown {
  if (typeof value === "string") return replace(value, path, env, out);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], env, out));
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = walk(v, [...path, k], env, out);
    return copy;
  }
  return value;
}

function replace(text: string, path: PathKey[], env: Record<string, string | undefined>, out: Substituted): string {
  if (!text.includes("${")) return text;
  const where = dotted(path);
  const result = text.replace(REFERENCE, (whole, escaped: string, body: string) => {
    if (escaped) return whole.slice(1);
    const m = BODY.exec(body);
    if (!m) {
      out.problems.push({ path, message: `${where} has a malformed reference ${whole}: write \${NAME} or \${NAME:-default}` });
      return whole;
    }
    const name = m[1]!;
    const fallback = m[2];
    const set = env[name];
    if (set !== undefined && (fallback === undefined || set !== "")) {
      if (!NOT_SECRET.test(name) || LOOKS_SECRET.test(name)) out.secrets.push(set);
      return set;
    }
    if (fallback !== undefined) return fallback;
    out.problems.push({
      path,
      message: `${where} uses \${${name}}, which is not set: set ${name} in the environment, or give a default with \${${name}:-default}`,
    });
    return whole;
  });
  if (/(^|[^$])\$\{[^}]*$/.test(text)) {
    out.problems.push({ path, message: `${where} has an unclosed \${: write \${NAME} or \${NAME:-default}` });
  }
  return result;
}

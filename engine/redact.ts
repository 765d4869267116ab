import { and, eq } from "drizzle-orm";
import { configVars } from "../db/schema/index.ts";
import type { EngineDeps } from "./context.ts";

/**
 * Secrets are every value substituted from the environment into the playbook, and every value
 * set with `config set` (people put API keys there). Short values are left alone: masking "1"
 * everywhere would hide more than it protects.
 */
export function makeRedactor(secrets: Iterable<string>): (text: string) => string {
  const list = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join("[REDACTED]");
    return out;
  };
}

export async function redactorFor(deps: EngineDeps, app: string, env: string): Promise<(text: string) => string> {
  const rows = await deps.db
    .select({ value: configVars.value })
    .from(configVars)
    .where(and(eq(configVars.app, app), eq(configVars.env, env)));
  return makeRedactor([...deps.playbook.secrets, ...rows.map((r) => r.value)]);
}

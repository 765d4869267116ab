import { configVarsOf } from "../../db/queries/config-vars.ts";
import type { EngineApiDeps } from "../../engine/context.ts";
import { isSecretKey, isSecretValue, makeRedactor } from "../../lib/redact.ts";
import { currentRelease } from "../../db/queries/releases.ts";
import { environmentOf } from "../../playbooks/resolve.ts";
import type { Reply } from "../dispatch-types.ts";

export async function appsAnswer(deps: EngineApiDeps): Promise<Reply> {
  const lines: string[] = [];
  for (const app of Object.values(deps.playbook.apps).sort((a, b) => a.name.localeCompare(b.name))) {
    const envs: string[] = [];
    for (const env of Object.values(app.environments)) {
      const cur = await currentRelease(deps.db, app.name, env.name);
      envs.push(`${env.name} ${cur ? `v${cur.number}` : "(never deployed)"}`);
    }
    lines.push(`• ${app.name}: ${envs.join(", ")}`);
  }
  return { kind: "answer", title: "apps", text: lines.join("\n") || "No apps in the playbook." };
}

/**
 * The release's config, each value as set unless it is a secret (from `${ENV}` in the playbook,
 * under a secret-looking key, carrying a password, or marked with `config secret`); keys always show.
 */
export async function configAnswer(deps: EngineApiDeps, app: string, env: string): Promise<Reply> {
  if (!environmentOf(deps.playbook, app, env)) return notFound(app, env);
  const cur = await currentRelease(deps.db, app, env);
  const sets = await configVarsOf(deps.db, app, env);
  const marked = new Set(sets.filter((s) => s.secret).map((s) => s.key));
  const redact = makeRedactor(deps.playbook.secrets);
  const show = (k: string, v: string) => (marked.has(k) || isSecretKey(k) || isSecretValue(v) ? "[REDACTED]" : redact(v));
  const config = cur?.config ?? {};
  const lines = Object.keys(config)
    .sort()
    .map((k) => `${k}=${show(k, config[k]!)}`);
  const pending = sets.filter((s) => !(s.key in config)).map((s) => `${s.key}=${show(s.key, s.value)} (not released yet)`);
  const head = cur ? `config of ${app} ${env} at v${cur.number}` : `config of ${app} ${env} (never deployed)`;
  return { kind: "answer", title: head, text: [...lines, ...pending].join("\n") || "no config vars" };
}

export function notFound(app: string, env?: string): Reply {
  return { kind: "refused", code: "not_found", text: env ? `there is no environment ${env} for app ${app}.` : `there is no app ${app}.` };
}

import type { EngineApiDeps } from "../../engine/context.ts";
import type { SquadReport } from "../../engine/host-checks/run.ts";
import { liveHostChecks } from "../../engine/host-reads.ts";
import type { Reply } from "../dispatch-types.ts";
import { strong } from "../notify/markup.ts";
import { plural } from "../../lib/plural.ts";

const MARK = { ok: "✓", warn: "!", fail: "✗", skip: "–" } as const;

/**
 * The answer to `hosts check`: per host one line of what passed, then each problem on its own line
 * with its fix on the next. Pure.
 */
export function renderHostsCheck(reports: readonly SquadReport[]): string {
  const lines: string[] = [];
  for (const s of reports) {
    lines.push(strong(s.squad));
    for (const h of s.hosts) {
      const bad = h.checks.filter((c) => c.status === "fail").length;
      const verdict = bad ? `not ready (${plural(bad, "problem")})` : "ready";
      lines.push(`  ${h.host}: ${verdict} — ${h.checks.map((c) => `${MARK[c.status]} ${c.name}`).join("  ")}`);
      for (const c of h.checks) {
        if (c.status === "ok") continue;
        lines.push(`    ${MARK[c.status]} ${c.name}: ${oneLine(c.detail)}`);
        if (c.fix) lines.push(`      fix: ${oneLine(c.fix)}`);
      }
    }
  }
  return lines.join("\n");
}

/** Remote error text can span lines; a finding is shown on one. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " / ");
}

/**
 * `hosts check [<squad>]`: SSH and host key, upload, root, supervisord and credentials, the include
 * of Raptor's program files, free ports; each problem with its fix. A worker checks each host (the
 * bot holds no host credentials); a host no worker answered for says so.
 */
export async function hostsCheckAnswer(deps: EngineApiDeps, squadName?: string): Promise<Reply> {
  const squads = Object.values(deps.playbook.squads).filter((s) => !squadName || s.name === squadName);
  if (squads.length === 0) return { kind: "refused", code: "not_found", text: `there is no squad ${squadName}. Squads: ${Object.keys(deps.playbook.squads).join(", ")}.` };
  const reports = await liveHostChecks(deps, squads);
  return { kind: "answer", title: `hosts check${squadName ? ` ${squadName}` : ""}`, text: renderHostsCheck(reports) };
}

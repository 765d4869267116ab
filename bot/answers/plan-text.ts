import type { ChangePlan, PlanRelease } from "../../engine/changes/plan.ts";
import { commitCount, commitLines, configLines, rangeLabel } from "../notify/changes-text.ts";

/**
 * A ChangePlan as the answer people read, pure. `asked` is the command after `plan`, as typed
 * ("deploy hello production v1.4.2"), with secret values masked; `masked` says some were, and then
 * the answer does not offer `asked` as the command to run (pasted, it would set the mask as the
 * value). The text is plain: answerBlocks escapes it for Slack.
 */
export function planText(plan: ChangePlan, asked: string, masked = false): { title: string; text: string } {
  const lines: string[] = [];
  lines.push(`${releaseText(plan.serving, "never deployed")} → ${targetText(plan)}`);
  if (plan.unchanged) lines.push("nothing would change: this build and config already serve, and every proc is there.");

  if (plan.commits) {
    if ("error" in plan.commits) lines.push(`commits: unknown (${plan.commits.error})`);
    else lines.push(`commits ${rangeLabel(plan.commits)}: ${commitCount(plan.commits)}`, ...commitLines(plan.commits));
  }
  if (plan.config) lines.push("config:", ...configLines(plan.config));

  const { start, stop } = plan.procs;
  if (start.length + stop.length === 0) lines.push("procs: none start or stop");
  else {
    lines.push(`procs: ${start.length} start, ${stop.length} stop`);
    const hosts = [...new Set([...start.map((s) => s.host), ...stop.map((s) => s.host)])].sort();
    for (const host of hosts) {
      const up = start.filter((s) => s.host === host).map((s) => (s.port !== undefined ? `${s.procType}:${s.port}` : s.procType));
      const down = stop.filter((s) => s.host === host).map((s) => s.name);
      lines.push(`  ${host}: ${[up.length ? `start ${up.join(", ")}` : "", down.length ? `stop ${down.join(", ")}` : ""].filter(Boolean).join("; ")}`);
    }
  }
  if (plan.pool) {
    const { poolAdd, poolRemove } = plan.procs;
    const change = [poolAdd.length ? `+ ${poolAdd.join(", ")}` : "", poolRemove.length ? `- ${poolRemove.join(", ")}` : ""].filter(Boolean).join("; ");
    lines.push(`pool ${plan.pool.name} (balancer ${plan.pool.balancer}): ${change || "no change"}`);
  }

  if (plan.obstacles.length) lines.push("in the way:", ...plan.obstacles.map((o) => `  • ${o}`));
  else lines.push("nothing in the way.");
  if (plan.notes.length) lines.push(...plan.notes.map((n) => `note: ${n}`));
  // Where the plain command would be refused until confirmed, the `!` form is the one that runs
  // (trial 2, M1). A command with a masked secret is not runnable as shown: pasted, it would set the mask.
  if (plan.confirm) lines.push(`Nothing was run. To do it: \`${plan.confirm}\``);
  else lines.push(masked ? "Nothing was run. To do it: the same command without `plan`, with the values you typed (secret values are masked above)." : `Nothing was run. To do it: \`${asked}\``);
  return { title: `plan: ${asked}`, text: lines.join("\n") };
}

function releaseText(r: PlanRelease | undefined, none: string): string {
  if (!r) return none;
  const parts = [r.number !== undefined ? `v${r.number}` : "", r.commit ? `(${r.commit.slice(0, 7)})` : ""].filter(Boolean);
  return `${parts.join(" ")}` || none;
}

function targetText(plan: ChangePlan): string {
  const t = plan.target;
  if (plan.kind === "config") return "a new release with this config";
  if (plan.kind === "scale" || !t) return `${releaseText(plan.serving, "never deployed")} resized`;
  if (plan.kind === "rollback") return `a new release with v${t.number}'s build and config${t.commit ? ` (${t.commit.slice(0, 7)})` : ""}`;
  const commit = t.commit ? ` → ${t.commit.slice(0, 7)}` : "";
  return plan.unchanged ? `${t.source}${commit} (already serving)` : `${t.source}${commit} as a new release`;
}

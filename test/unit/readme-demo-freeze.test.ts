import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isFrozen, parseFreezeWindow } from "../../playbooks/freeze.ts";
import { loadPlaybooks } from "../../playbooks/load.ts";

/**
 * New-user trial, finding 9: the README said the demo's `hello production` refuses plain deploys at
 * weekends; its playbook freezes 2026-12-24 - 2026-12-26. The README names the windows the demo
 * playbook has, and they leave the tour's `deploy hello production` open on ordinary days.
 */
describe("the README's demo freeze is the demo playbook's", async () => {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const from = readme.indexOf("The demo's `hello production`");
  const paragraph = readme.slice(from, readme.indexOf("```", from));
  const pb = await loadPlaybooks("playbooks/examples", {});
  const windows = pb.apps.hello!.environments.production!.freeze;

  it("names every window of hello production, and no weekend it does not have", () => {
    expect(from).toBeGreaterThan(0);
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) expect(paragraph).toContain(`\`${w}\``);
    const weekly = windows.some((w) => {
      const parsed = parseFreezeWindow(w);
      return parsed.ok && parsed.window.kind === "weekly";
    });
    if (!weekly) expect(paragraph).not.toMatch(/refuses[^.]*weekends/);
  });

  it("the tour's production deploy is open on ordinary days: at most a few frozen days a year (a holiday, not every weekend)", () => {
    let frozenDays = 0;
    let frozenWeekendDays = 0;
    for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2027, 0, 1); day += 86_400_000) {
      const noon = new Date(day + 12 * 3_600_000);
      if (!isFrozen(windows, noon)) continue;
      frozenDays++;
      if (noon.getUTCDay() === 0 || noon.getUTCDay() === 6) frozenWeekendDays++;
    }
    expect(frozenDays).toBeLessThanOrEqual(7);
    expect(frozenWeekendDays).toBeLessThanOrEqual(2);
    expect(paragraph).toContain("`deploy!` skips the freeze");
  });
});

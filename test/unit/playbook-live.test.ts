import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/logger.ts";
import { LivePlaybook } from "../../playbooks/live.ts";
import { loadPlaybooks } from "../../playbooks/load.ts";
import type { Playbook } from "../../playbooks/types.ts";

const squads = "squads:\n  here: { hosts: [127.0.0.1], transport: local }\n";
const app = (name: string) => `apps:\n  ${name}:\n    repo: /srv/${name}\n    environments:\n      local: { squad: here }\n`;

describe("LivePlaybook", () => {
  it("reloads an edited directory, keeps the last good playbook on a broken edit and says why until it is fixed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raptor-live-"));
    try {
      await writeFile(join(dir, "squads.yaml"), squads);
      await writeFile(join(dir, "a.yaml"), app("a"));
      let current: Playbook = await loadPlaybooks(dir, {});
      const live = new LivePlaybook(dir, (pb) => (current = pb), silentLogger, {});
      await live.prime();
      expect(await live.refresh()).toBeUndefined();

      await writeFile(join(dir, "b.yaml"), app("b"));
      expect(await live.refresh()).toBeUndefined();
      expect(Object.keys(current.apps).sort()).toEqual(["a", "b"]);

      await writeFile(join(dir, "c.yaml"), "apps:\n  c:\n    environments:\n      local: { squad: nowhere }\n");
      const problem = await live.refresh();
      expect(problem).toContain("keeps using the last good one");
      expect(problem).toMatch(/c\.yaml:\d+: .*squad "nowhere"/);
      expect(Object.keys(current.apps).sort()).toEqual(["a", "b"]);
      expect(await live.refresh()).toBe(problem); // said again until fixed

      await rm(join(dir, "c.yaml"));
      expect(await live.refresh()).toBeUndefined();
      expect(Object.keys(current.apps).sort()).toEqual(["a", "b"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

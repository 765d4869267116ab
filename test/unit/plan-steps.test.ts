import { describe, expect, it } from "vitest";
import { planSteps } from "../../engine/pipeline/plan-steps.ts";

describe("planSteps", () => {
  const cases = [
    ["deploy", true, "resolve build release start uptest release_hook route teardown"],
    ["deploy", false, "resolve build release start uptest route teardown"],
    ["config", true, "release start uptest release_hook route teardown"],
    ["rollback", true, "release start uptest route teardown"],
    ["scale", true, "start uptest route teardown"],
    ["restart", true, "restart"],
  ] as const;
  for (const [kind, hook, want] of cases) {
    it(`${kind}${hook ? " with" : " without"} a release hook`, () => {
      expect(planSteps(kind, { hasReleaseHook: hook }).join(" ")).toBe(want);
    });
  }
});

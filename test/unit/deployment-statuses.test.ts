import { describe, expect, it } from "vitest";
import { deploymentStatuses, finalDeploymentStatuses, openDeploymentStatuses } from "../../db/schema/enums.ts";
import { finalEventTypes } from "../../engine/event-types.ts";

/**
 * Issue 7 item 7: the final states are one set (db/schema/enums.ts); the open ones, the final
 * events and the digest's counts are derived from it, never written out again.
 */
describe("deployment statuses: one set of final states", () => {
  it("open and final split every status, with nothing in both", () => {
    expect([...openDeploymentStatuses].sort()).toEqual(["awaiting_approval", "queued", "running"]);
    expect([...openDeploymentStatuses, ...finalDeploymentStatuses].sort()).toEqual([...deploymentStatuses].sort());
  });

  it("the final events are deployment.<final status>", () => {
    expect([...finalEventTypes].sort()).toEqual(finalDeploymentStatuses.map((s) => `deployment.${s}`).sort());
  });
});

import { withoutVerbatimMarks } from "../../lib/verbatim.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEndText, type DeployRequestEntry } from "../../bot/answers/history-text.ts";
import { allowAll, startHarness, type Harness } from "../support/raptor-harness.ts";
import { localHelloPlaybook } from "../support/playbook-yaml.ts";

/**
 * New-user trial, finding 1: `deploys hello production` listed a rejected deployment as
 * "rejected, approved by lead" and two cancelled ones as "cancelled, approved by root" (root may
 * not approve root's own request; nobody approved any of them). The approval's decision is named
 * as what it was, by whom; "approved by" only when someone approved.
 */
describe("deploymentEndText: how a requested deployment ended, with who decided", () => {
  const d = (status: string, more: Partial<NonNullable<DeployRequestEntry["deployment"]>> = {}) => ({ id: "d-1", status, ...more });
  it.each<[string, ReturnType<typeof d>, DeployRequestEntry["approval"], string | undefined, string]>([
    ["rejected by a lead", d("rejected"), { status: "rejected", by: "lead", reason: "not during the sale" }, undefined, "rejected by lead: not during the sale"],
    ["rejected, no reason", d("rejected"), { status: "rejected", by: "lead", reason: null }, undefined, "rejected by lead"],
    ["expired", d("rejected"), { status: "expired", by: null, reason: null }, undefined, "rejected: nobody approved it in time"],
    // A cancel records the approval as rejected by the canceller with reason "cancelled".
    ["cancelled while waiting", d("cancelled"), { status: "rejected", by: "root", reason: "cancelled" }, "root", "cancelled by root while waiting for approval"],
    ["cancelled after approval", d("cancelled"), { status: "approved", by: "lead", reason: null }, "root", "cancelled by root, approved by lead"],
    ["cancelled, no approval needed", d("cancelled"), undefined, "ann", "cancelled by ann"],
    ["succeeded with approval", d("succeeded", { release: 4 }), { status: "approved", by: "lead" }, undefined, "succeeded, v4, approved by lead"],
    ["failed with approval", d("failed", { errorCode: "uptest_failed" }), { status: "approved", by: "lead" }, undefined, "failed (uptest_failed), approved by lead"],
    // Trial finding 12: a deploy of what already served.
    ["a deploy that changed nothing", d("succeeded", { release: 3, unchanged: true }), undefined, undefined, "nothing changed (v3 already served)"],
    ["waiting", d("awaiting_approval"), { status: "pending", by: null }, undefined, "awaiting approval"],
  ])("%s", (_, dep, approval, cancelledBy, text) => {
    expect(withoutVerbatimMarks(deploymentEndText(dep, approval, cancelledBy))).toBe(text);
  });
});

describe("deploys names the approval's real decision (real Postgres and Redis)", () => {
  let h: Harness;
  const root = { id: "root" };
  const lead = { id: "lead" };
  beforeAll(async () => {
    h = await startHarness({ playbookYaml: await localHelloPlaybook("raptor-decisions-", ["production: { squad: here, approval: { required: true, timeout: 30m } }"]), authorizer: allowAll, workers: 0 });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it("the trial's input: a reject by lead and a cancel by root while waiting are listed as such, with no 'approved by'", async () => {
    const a = await h.say("deploy hello production", { actor: root, follow: false });
    if (a.reply.kind !== "deployment") throw new Error(a.text);
    expect((await h.say(`reject ${a.reply.deploymentId} not during the sale`, { actor: lead })).text).toContain("rejected");
    const b = await h.say("deploy hello production", { actor: root, follow: false });
    if (b.reply.kind !== "deployment") throw new Error(b.text);
    await h.say(`cancel ${b.reply.deploymentId}`, { actor: root });
    const c = await h.say("deploy! hello production", { actor: root, follow: false });
    if (c.reply.kind !== "deployment") throw new Error(c.text);
    await h.say(`cancel ${c.reply.deploymentId}`, { actor: root });
    const deploys = (await h.say("deploys hello production", { actor: root })).text;
    expect(deploys).not.toContain("approved by");
    expect(deploys).toContain(`\`deploy hello production\` — rejected by lead: not during the sale (${a.reply.deploymentId})`);
    expect(deploys).toContain(`\`deploy hello production\` — cancelled by root while waiting for approval (${b.reply.deploymentId})`);
    expect(deploys).toContain(`\`deploy! hello production\` — cancelled by root while waiting for approval (${c.reply.deploymentId})`);
  });
});

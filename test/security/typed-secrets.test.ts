import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvals, auditLog, configVars, deploymentEvents, locks } from "../../db/schema/index.ts";
import { startHarness, type Harness } from "../support/raptor-harness.ts";

/**
 * Red-team finding 8 (issue 8 §4): a known secret typed into free text a person writes — a lock
 * reason, a reject reason, a word the parser echoes — was echoed in the answer and stored in the
 * lock, the approval, the audit log and the thread unmasked. Now it is masked before it is stored
 * and in every answer, for the secrets of every app (the playbook's and `config secret` ones).
 */
const PLAYBOOK_SECRET = "pk_live_typed_7Hq2Zr9w";
const OTHER_APP_SECRET = "other-app-s3cret-Xy81";

describe("secrets typed into reasons and other free text", () => {
  let h: Harness;
  const ALICE = { id: "U_ALICE" };
  const BOB = { id: "U_BOB" };
  const saved = process.env.PLANTED_TYPED_TOKEN;

  beforeAll(async () => {
    process.env.PLANTED_TYPED_TOKEN = PLAYBOOK_SECRET;
    h = await startHarness({
      workers: 0,
      playbookYaml: {
        "pb.yaml": [
          "squads:",
          "  here: { hosts: [127.0.0.1], transport: local, supervisor: { url: 'http://127.0.0.1:9/RPC2', username: u, password: p }, ports: 7000-7010, root: /tmp/raptor-typed-secrets }",
          "apps:",
          "  hello:",
          "    repo: /tmp/raptor-typed-secrets-repo",
          "    environments:",
          "      prod: { squad: here, env: { API_TOKEN: '${PLANTED_TYPED_TOKEN}' }, approval: { required: true } }",
          "      stage: { squad: here }",
        ].join("\n"),
      },
    });
    // Another app's secret, set with `config secret` earlier.
    await h.engine.db.insert(configVars).values({ app: "other", env: "prod", key: "NOTE", value: OTHER_APP_SECRET, secret: true, updatedBy: "U_X" });
  }, 120_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.PLANTED_TYPED_TOKEN;
    else process.env.PLANTED_TYPED_TOKEN = saved;
    await h?.close();
  });

  it("a lock reason: masked in the answer, the lock, the audit log, status and the refusal a deploy meets", async () => {
    const locked = await h.say(`lock hello stage rotating ${PLAYBOOK_SECRET} and ${OTHER_APP_SECRET} today`, { actor: ALICE });
    expect(locked.text).toBe("hello stage is locked (rotating [REDACTED] and [REDACTED] today). Nothing deploys there until `unlock hello stage`.");
    const status = await h.say("status hello stage");
    expect(status.text).toContain("locked by U_ALICE (rotating [REDACTED] and [REDACTED] today)");
    const refused = await h.say("deploy hello stage", { actor: BOB });
    expect(refused.text).toContain("(rotating [REDACTED] and [REDACTED] today)");
    const stored = JSON.stringify([await h.engine.db.select().from(locks), await h.engine.db.select().from(auditLog)]);
    expect(stored).toContain("rotating [REDACTED]");
    expect(stored).not.toContain(PLAYBOOK_SECRET);
    expect(stored).not.toContain(OTHER_APP_SECRET);
  });

  it("a reject reason: masked in the answer, the approval row, the audit log and the thread", async () => {
    const asked = await h.say("deploy hello prod", { actor: ALICE, follow: false });
    expect(asked.reply.kind).toBe("deployment");
    const id = (asked.reply as { deploymentId: string }).deploymentId;
    const rejected = await h.say(`reject ${id} the token ${PLAYBOOK_SECRET} leaked`, { actor: BOB });
    expect(rejected.text).toBe(`${id} rejected.`);
    const thread = await h.follow(id);
    expect(thread.text).toContain("the token [REDACTED] leaked");
    const stored = JSON.stringify([await h.engine.db.select().from(approvals), await h.engine.db.select().from(auditLog), await h.engine.db.select().from(deploymentEvents)]);
    expect(stored).toContain("the token [REDACTED] leaked");
    expect(stored).not.toContain(PLAYBOOK_SECRET);
  });

  // Red-team finding (issue 8, MEDIUM): a `config secret` value was masked only once its
  // deployment finished, so typed into a lock reason meanwhile it was stored and logged in clear.
  it("a `config secret` value is masked from the moment it is asked for: while awaiting approval, and when refused", async () => {
    const AWAITING = "pending-approval-Vq93kLz";
    const REFUSED = "refused-at-once-Tm47pWd";
    const asked = await h.say(`config secret hello prod NOTE=${AWAITING}`, { actor: ALICE, follow: false });
    expect(asked.reply.kind).toBe("deployment");
    expect(asked.text).not.toContain(AWAITING);
    // stage is locked by the first test: the request is refused before anything is queued.
    const refused = await h.say(`config secret hello stage NOTE=${REFUSED}`, { actor: ALICE });
    expect(refused.text).toContain("is locked");
    expect(refused.text).not.toContain(REFUSED);
    await h.say("unlock hello stage", { actor: ALICE });
    const locked = await h.say(`lock hello stage keys ${AWAITING} and ${REFUSED} rotate`, { actor: BOB });
    expect(locked.text).toContain("(keys [REDACTED] and [REDACTED] rotate)");
    const stored = JSON.stringify([await h.engine.db.select().from(locks), await h.engine.db.select().from(auditLog), await h.engine.db.select().from(deploymentEvents)]);
    expect(stored).toContain("keys [REDACTED] and [REDACTED] rotate");
    expect(stored).not.toContain(AWAITING);
    expect(stored).not.toContain(REFUSED);
  });

  it("words the parser echoes back", async () => {
    const r = await h.say(`deploy hello ${OTHER_APP_SECRET}`);
    expect(r.reply.kind).not.toBe("deployment");
    expect(r.text).not.toContain(OTHER_APP_SECRET);
  });
});

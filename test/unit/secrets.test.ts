import { describe, expect, it } from "vitest";
import { redactEvent, redactingLogger } from "../../engine/redact.ts";
import { approvalStatuses, beatOutcomes, buildStatuses, deploymentKinds, deploymentStatuses, hostStates, procStatuses, stepStatuses } from "../../db/schema/enums.ts";
import { stepNames } from "../../engine/event-types.ts";
import { errorCodes } from "../../lib/error-codes.ts";
import { isPlainWord, RAPTOR_WORDS } from "../../lib/vocabulary.ts";
import { warnPlainWordSecrets } from "../../playbooks/live.ts";
import { isSecretKey, isSecretValue, makeRedactor, maskableChatSecrets, secretValues, shortSecretProblem } from "../../lib/redact.ts";

/** Issue 11 item 1: secrets are values by source, key or mark; identifiers are never masked. */
describe("which config values are secrets", () => {
  it.each([
    ["API_TOKEN", true],
    ["DB_PASSWORD", true],
    ["STRIPE_SECRET", true],
    ["AWS_SECRET_ACCESS_KEY", true],
    ["GCP_CREDENTIALS", true],
    ["PRIVATE_KEY", true],
    ["SENTRY_DSN", true],
    ["api_key", true],
    ["APP_ENV", false],
    ["DEBUG", false],
    ["GIT_BRANCH", false],
    ["MONKEY", false],
    ["KEYBOARD_LAYOUT", false],
    ["GREETING", false],
  ])("%s -> %s", (key, secret) => expect(isSecretKey(key)).toBe(secret));

  it("a URL with a password is a secret, one without is not", () => {
    expect(isSecretValue("postgres://web:pw@db/web")).toBe(true);
    expect(isSecretValue("https://example.com/a@b")).toBe(false);
    expect(isSecretValue("redis://db:6379")).toBe(false);
  });

  it("collects the values under secret keys, carrying passwords, or marked", () => {
    const config = { APP_ENV: "local", DEBUG: "true", GIT_BRANCH: "main", API_TOKEN: "tok-123", MOTD: "hi there", DB: "postgres://u:p@h/d" };
    expect(secretValues(config, new Set(["MOTD"])).sort()).toEqual(["hi there", "postgres://u:p@h/d", "tok-123"]);
  });
});

describe("redactEvent: free text masked, identifiers never", () => {
  const redact = makeRedactor(["production", "s3cr3t-value"]);
  it("keeps app, env, hosts and release numbers; masks summaries and messages", () => {
    const queued = redactEvent(
      { type: "deployment.queued", kind: "deploy", app: "hello", env: "production", requestedBy: "U1", origin: "terminal", summary: "deploy hello production s3cr3t-value", steps: ["resolve"], behind: [] },
      redact,
    );
    expect(queued).toMatchObject({ app: "hello", env: "production", summary: "deploy hello [REDACTED] [REDACTED]" });
    const done = redactEvent({ type: "deployment.succeeded", release: 3, hosts: [{ host: "production", procs: ["web:5000"] }], durationMs: 1 }, redact);
    expect(done).toEqual({ type: "deployment.succeeded", release: 3, hosts: [{ host: "production", procs: ["web:5000"] }], durationMs: 1 });
    expect(redactEvent({ type: "step.log", step: "build", title: "log", text: "token s3cr3t-value" }, redact)).toMatchObject({ text: "token [REDACTED]" });
  });
});

/**
 * Issue 8 red team 2: `config secret evil local X_TOKEN=root` made every message read `by
 * [REDACTED]` (actors, names, Raptor's own words). Secrets under MIN_SECRET_LENGTH are refused
 * when set, and the redactor leaves those already stored alone.
 */
describe("short values are not secrets", () => {
  it.each([
    ["root", "put in place by root", "put in place by root"],
    ["local", "who deployed hello local", "who deployed hello local"],
    ["1234567", "pin 1234567", "pin 1234567"],
    ["12345678", "pin 12345678", "pin [REDACTED]"],
    ["tok-8f3a2c91", "token tok-8f3a2c91 used", "token [REDACTED] used"],
  ])("a chat-set secret %j: %j -> %j", (secret, text, shown) => {
    expect(makeRedactor(maskableChatSecrets([secret]))(text)).toBe(shown);
  });

  it.each([
    ["config secret", "X_TOKEN", "root", true, /config secret: a `config secret` value must have at least 8 characters \(X_TOKEN has 4\)/],
    ["config secret", "GREETING", "howdy", true, /at least 8 characters/],
    ["config set", "API_TOKEN", "abc123", false, /config set: API_TOKEN looks like a secret, and its value must have at least 8 characters \(API_TOKEN has 6\)/],
    ["config set", "API_TOKEN", "", false, /has 0/],
    ["config set", "GREETING", "hi", false, undefined],
    ["config set", "API_TOKEN", "tok-8f3a2c91", false, undefined],
    ["config secret", "NOTE", "eight-ch", true, undefined],
  ])("%s %s=%j", (verb, key, value, marked, problem) => {
    const got = shortSecretProblem(verb, key, value, marked);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeUndefined();
  });
});

/**
 * Red team 2 N4: `config secret hello local NOTE2=succeeded` made every `deploys` outcome read
 * `[REDACTED]` and raptor.log's `"event":"deployment.[REDACTED]"`. A plain word is not a secret:
 * refused when set, left alone by the redactor when already stored, and raptor.log's fields that
 * hold Raptor's own words are written outside the redactor.
 */
describe("ordinary words are not secrets (red team 2 N4)", () => {
  it.each<[verb: string, key: string, value: string, marked: boolean, refused: boolean]>([
    ["config secret", "NOTE2", "succeeded", true, true],
    ["config secret", "NOTE2", "SUCCEEDED", true, true],
    ["config secret", "NOTE2", "Succeeded", true, true],
    ["config secret", "NOTE", "opensesame", true, true],
    ["config secret", "NOTE", "awaiting_approval", true, true],
    ["config secret", "NOTE", "deployment.succeeded", true, true],
    ["config secret", "NOTE", "build_failed", true, true],
    ["config set", "API_TOKEN", "listening", false, true],
    ["config set", "API_TOKEN", "PASSWORDS", false, true],
    ["config set", "GREETING", "listening", false, false],
    ["config secret", "NOTE", "opensesame42", true, false],
    ["config secret", "NOTE", "OpenSesame", true, false],
    ["config set", "API_TOKEN", "tok-8f3a2c91", false, false],
    ["config secret", "NOTE", "correct horse battery", true, false],
  ])("%s %s=%j", (verb, key, value, marked, refused) => {
    const got = shortSecretProblem(verb, key, value, marked);
    if (!refused) return expect(got).toBeUndefined();
    expect(got).toMatch(new RegExp(`^${verb}: .* must not be an ordinary word \\(${key}'s value is letters only, or one of Raptor's own words`));
    expect(got).not.toContain(value);
  });

  it("a plain word stored before the rule masks nothing: deploys' outcome and raptor.log's event stay", () => {
    const redact = makeRedactor(maskableChatSecrets(["succeeded", "deployment.failed", "s3cret-value9"]));
    expect(redact("root: `deploy hello local` — succeeded, v3 (d-vgxkbk5h)")).toBe("root: `deploy hello local` — succeeded, v3 (d-vgxkbk5h)");
    expect(redact('{"event":"deployment.failed","reason":"token s3cret-value9"}')).toBe('{"event":"deployment.failed","reason":"token [REDACTED]"}');
  });

  it("every status, kind, step, event part and error code is one of Raptor's words", () => {
    const all = [
      ...deploymentStatuses, ...stepStatuses, ...buildStatuses, ...procStatuses, ...approvalStatuses, ...hostStates, ...beatOutcomes,
      ...deploymentKinds, ...stepNames, ...errorCodes,
    ];
    expect(all.filter((w) => !RAPTOR_WORDS.has(w))).toEqual([]);
    for (const event of ["deployment.succeeded", "deployment.awaiting_approval", "step.release_hook", "beat.report"]) expect(isPlainWord(event)).toBe(true);
  });
});

describe("raptor.log: Raptor's words outside the redactor, free text through it (red team 2 N4)", () => {
  it("a playbook secret equal to `succeeded` leaves event, outcome, status, step, kind and code, masks the reason", () => {
    const lines: object[] = [];
    const inner = { debug: () => {}, info: (o: object) => void lines.push(o), warn: () => {}, error: (o: object) => void lines.push(o) };
    const log = redactingLogger(inner, () => makeRedactor(["succeeded", "failed_deploy"]));
    log.info({ deploymentId: "d-1", event: "deployment.succeeded", outcome: "succeeded", status: "succeeded", step: "build", kind: "deploy", code: "build_failed", reason: "the app said succeeded" });
    expect(lines[0]).toEqual({ deploymentId: "d-1", event: "deployment.succeeded", outcome: "succeeded", status: "succeeded", step: "build", kind: "deploy", code: "build_failed", reason: "the app said [REDACTED]" });
  });

  it("a playbook secret that is a plain word is warned about at load, without its value", () => {
    const warned: [object, string | undefined][] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (o: object, m?: string) => void warned.push([o, m]), error: () => {} };
    warnPlainWordSecrets({ secrets: ["succeeded", "tok-8f3a2c91"] }, logger);
    expect(warned).toHaveLength(1);
    expect(warned[0]![1]).toMatch(/^1 value substituted into the playbook from the environment \(\$\{VAR\}\) is an ordinary word/);
    expect(JSON.stringify(warned)).not.toContain("succeeded");
    warnPlainWordSecrets({ secrets: ["tok-8f3a2c91"] }, logger);
    expect(warned).toHaveLength(1);
  });
});

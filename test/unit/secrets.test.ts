import { describe, expect, it } from "vitest";
import { redactEvent } from "../../engine/redact.ts";
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

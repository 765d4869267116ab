import { describe, expect, it } from "vitest";
import { parsePlaybookFiles } from "../../playbooks/load.ts";
import { bindingForChannel, configFor, environmentOf, knownNames, maskSecrets } from "../../playbooks/resolve.ts";
import type { Playbook } from "../../playbooks/types.ts";
import { lockEndOrigin } from "../../bot/dispatch.ts";

const TEXT = `
squads:
  s: { hosts: [h], transport: local }
ingredients:
  common:
    env: { LOG_LEVEL: info, REGION: eu }
    settings: { sentry: true, tier: 1 }
  debug:
    env: { LOG_LEVEL: debug }
    settings: { tier: 2 }
apps:
  web:
    repo: https://git.example.com/web.git
    environments:
      production:
        squad: s
        ingredients: [common, debug]
        env: { REGION: us, TOKEN: "\${TOKEN}" }
        settings: { tier: 3 }
        channels: ["#web", C0123ABCD]
      staging:
        squad: s
        channels: ["#web-staging"]
  api:
    repo: https://git.example.com/api.git
    environments:
      staging: { squad: s, ingredients: [common] }
`;

function playbook(): Playbook {
  const result = parsePlaybookFiles([{ path: "pb.yaml", text: TEXT }], { TOKEN: "tok-123456" });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.playbook;
}

describe("bindingForChannel", () => {
  const pb = playbook();
  const cases: [{ id: string; name?: string }, { app: string; env: string } | undefined][] = [
    [{ id: "C999", name: "web" }, { app: "web", env: "production" }],
    [{ id: "C999", name: "#web" }, { app: "web", env: "production" }],
    [{ id: "C999", name: "web-staging" }, { app: "web", env: "staging" }],
    [{ id: "C0123ABCD" }, { app: "web", env: "production" }],
    [{ id: "C0123ABCD", name: "random" }, { app: "web", env: "production" }],
    [{ id: "C999", name: "random" }, undefined],
    [{ id: "C999" }, undefined],
    [{ id: "web" }, undefined], // a name is never matched against an id
  ];
  it.each(cases)("%j -> %j", (channel, binding) => {
    expect(bindingForChannel(pb, channel)).toEqual(binding);
  });
});

describe("environmentOf", () => {
  const pb = playbook();
  it("finds an app's environment", () => {
    const found = environmentOf(pb, "web", "staging");
    expect(found?.app.name).toBe("web");
    expect(found?.environment).toMatchObject({ name: "staging", app: "web", squad: "s" });
  });
  it.each([
    ["web", "qa"],
    ["nope", "staging"],
    ["web", "constructor"],
    ["__proto__", "staging"],
  ])("%s %s -> undefined", (app, env) => {
    expect(environmentOf(pb, app, env)).toBeUndefined();
  });
});

describe("configFor", () => {
  const pb = playbook();
  it("layers ingredients in order, then the environment's own; later wins", () => {
    expect(configFor(pb, "web", "production")).toEqual({
      env: { LOG_LEVEL: "debug", REGION: "us", TOKEN: "tok-123456" },
      settings: { sentry: true, tier: 3 },
    });
    expect(configFor(pb, "api", "staging")).toEqual({ env: { LOG_LEVEL: "info", REGION: "eu" }, settings: { sentry: true, tier: 1 } });
    expect(configFor(pb, "web", "staging")).toEqual({ env: {}, settings: {} });
  });
  it("returns copies, not the playbook's own objects", () => {
    configFor(pb, "web", "production").env.REGION = "changed";
    expect(pb.apps.web?.environments.production?.env.REGION).toBe("us");
  });
  it("throws for an unknown environment", () => {
    expect(() => configFor(pb, "web", "qa")).toThrow(/no environment qa for app web/);
  });
});

describe("knownNames", () => {
  it("lists apps and their environments, sorted", () => {
    expect(knownNames(playbook())).toEqual({ apps: ["api", "web"], envs: { api: ["staging"], web: ["production", "staging"] }, defaultEnvs: { api: "staging" } });
  });
});

describe("maskSecrets", () => {
  const cases: [string[], string, string][] = [
    [["tok-123456"], "curl -H 'Authorization: tok-123456'", "curl -H 'Authorization: [REDACTED]'"],
    [["abc"], "abc is too short to mask", "abc is too short to mask"],
    [["pass", "password1"], "password1 and pass", "[REDACTED] and [REDACTED]"],
    [["a.b*c"], "regex chars a.b*c stay literal; axbbc does not match", "regex chars [REDACTED] stay literal; axbbc does not match"],
    [[], "nothing to hide", "nothing to hide"],
    [["s3cret"], "s3crets3cret", "[REDACTED][REDACTED]"],
  ];
  it.each(cases)("%j in %j", (secrets, text, masked) => {
    expect(maskSecrets({ secrets }, text)).toBe(masked);
  });
  it("masks what the loader recorded", () => {
    expect(maskSecrets(playbook(), "TOKEN=tok-123456")).toBe("TOKEN=[REDACTED]");
  });
});

describe("where a timed lock's end is said besides the environment's channels (lockEndOrigin)", () => {
  const where = { app: "web", env: "production" };
  const rows: [string, { origin: string; channel?: { id: string; name?: string } }, string | undefined][] = [
    // Typed in the environment's own channel (by name or by id): that channel hears the end anyway; once, not twice.
    ["in #web, bound by name", { origin: "slack:C999", channel: { id: "C999", name: "web" } }, undefined],
    ["in C0123ABCD, bound by id", { origin: "slack:C0123ABCD", channel: { id: "C0123ABCD" } }, undefined],
    // A thread is its own place: the end is said under the `lock` command.
    ["in a thread of #web", { origin: "slack:C999:1700000000.000100", channel: { id: "C999", name: "web" } }, "slack:C999:1700000000.000100"],
    ["in another channel", { origin: "slack:C777", channel: { id: "C777", name: "random" } }, "slack:C777"],
    ["in the terminal", { origin: "terminal" }, "terminal"],
  ];
  for (const [name, req, want] of rows) {
    it(name, () => expect(lockEndOrigin(playbook(), where, req)).toBe(want));
  }
});

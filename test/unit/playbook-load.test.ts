import { describe, expect, it } from "vitest";
import path from "node:path";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isFrozen } from "../../playbooks/freeze.ts";
import { formatIssue, loadPlaybooks, parsePlaybookFiles, PlaybookError } from "../../playbooks/load.ts";
import { maskSecrets } from "../../playbooks/resolve.ts";
import { DEFAULT_BEAT } from "../../playbooks/schema/beat.ts";

const FIXTURES = "test/fixtures/playbooks";

/** The issues of a failed load, as `file:line: message` lines. */
async function loadIssues(dir: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadPlaybooks(dir, env);
  } catch (e) {
    if (e instanceof PlaybookError) return e.issues.map(formatIssue);
    throw e;
  }
  throw new Error(`${dir} loaded without issues`);
}

describe("the example playbook", () => {
  it("loads with no environment variables set, every value defaulted", async () => {
    const pb = await loadPlaybooks("playbooks/examples", {});
    expect(pb.squads.local).toEqual({
      name: "local",
      hosts: ["127.0.0.1"],
      transport: "local",
      ssh: { user: "", port: 22 },
      supervisor: { url: "http://127.0.0.1:9001/RPC2", username: "raptor", password: "raptor" },
      ports: { from: 7000, to: 7099 },
      root: path.resolve(".raptor-demo/hosts/{host}"),
      user: "raptor-{app}",
    });
    const nginx = path.resolve(".raptor-demo/nginx");
    const nginxArgv = ["nginx", "-p", ".raptor-demo/nginx", "-c", ".raptor-demo/nginx/nginx.conf", "-e", ".raptor-demo/nginx/error.log"];
    expect(pb.balancers.local).toEqual({
      name: "local",
      kind: "nginx",
      hosts: ["127.0.0.1"],
      transport: "local",
      ssh: { user: "", port: 22 },
      include_dir: `${nginx}/raptor`,
      validate: [...nginxArgv, "-t", "-q"],
      reload: [...nginxArgv, "-s", "reload"],
      insecure: false,
    });
    expect(pb.balancers.dev).toEqual({ name: "dev", kind: "memory", hosts: [], transport: "ssh", ssh: { user: "", port: 22 }, insecure: false });
    expect(pb.ingredients.common?.env).toEqual({ LOG_LEVEL: "info" });
    const hello = pb.apps.hello!;
    // The demo deploys examples/hello as it is (issue 11 item 12: an edit is picked up by the next deploy).
    expect(hello.repo).toBe(path.resolve("examples/hello"));
    expect(hello.working_copy).toBe(true);
    expect(hello.environments.local).toMatchObject({
      name: "local",
      app: "hello",
      squad: "local",
      size: { web: 2 },
      balancer: "local",
      pool: "hello_local",
      url: "http://127.0.0.1:8080",
      healthcheck: "/",
      channels: ["#hello"],
      approval: { required: false },
    });
    expect(hello.environments.production).toMatchObject({
      size: { web: 3 },
      approval: { required: true, timeout_ms: 30 * 60_000 },
      access: { approve: ["@leads", "lead"] },
      // A freeze example that does not block the tour on a weekend (the new-user trial).
      freeze: ["2026-12-24 - 2026-12-26"],
      release_hook: ["echo", "no", "migrations", "to", "run"],
    });
    // Defaults written in the playbook are not secrets.
    expect(pb.secrets).toEqual([]);
  });

  it("takes supervisor settings and the data directory from the environment", async () => {
    const pb = await loadPlaybooks("playbooks/examples", {
      RAPTOR_SUPERVISOR_PORT: "9100",
      RAPTOR_SUPERVISOR_PASSWORD: "s3cret-pw",
      RAPTOR_DATA: "/var/lib/raptor",
    });
    expect(pb.squads.local?.supervisor).toMatchObject({ url: "http://127.0.0.1:9100/RPC2", password: "s3cret-pw" });
    expect(pb.squads.local?.root).toBe("/var/lib/raptor-demo/hosts/{host}");
    // The password is a secret; Raptor's own port and data directory are not (masking them would
    // blank every path and port in chat).
    expect(pb.secrets).toContain("s3cret-pw");
    expect(pb.secrets).not.toContain("9100");
    expect(pb.secrets).not.toContain("/var/lib/raptor");
  });
});

describe("a playbook with every key", () => {
  const env = { SSH_KEY: "/keys/deploy", SUPERVISOR_PASSWORD: "sup-pw", WEB_DATABASE_URL: "postgres://web:pw@db/web" };

  it("maps YAML to the validated shape", async () => {
    const pb = await loadPlaybooks(`${FIXTURES}/full`, env);
    expect(pb.squads.prod).toEqual({
      name: "prod",
      hosts: ["app1.internal", "app2.internal"],
      transport: "ssh",
      ssh: { user: "deploy", port: 2222, key: "/keys/deploy", known_hosts: "/etc/raptor/known_hosts" },
      supervisor: { url: "http://{host}:9002/RPC2", username: "raptor", password: "sup-pw" },
      ports: { from: 5000, to: 5999 },
      root: "/srv/apps",
      user: "raptor-{app}",
    });
    expect(pb.squads.bed).toMatchObject({ ports: { from: 8000, to: 8010 }, root: "/tmp/raptor/{host}", supervisor: { url: "http://{host}:9001/RPC2" } });
    expect(pb.balancers.edge).toEqual({
      name: "edge",
      kind: "nginx",
      hosts: ["lb1.internal"],
      transport: "ssh",
      ssh: { user: "deploy", port: 22, key: "/keys/deploy" },
      include_dir: "/etc/nginx/conf.d/raptor",
      validate: ["nginx", "-t"], // the default
      reload: ["sudo", "nginx", "-s", "reload"],
      insecure: false,
    });
    expect(pb.ingredients.common).toEqual({ name: "common", env: { LOG_LEVEL: "info", WORKERS: "4" }, settings: { sentry: true } });
    expect(pb.apps.web?.buildpack).toBe("nodejs");
    expect(pb.apps.web?.repo).toBe("https://git.example.com/acme/web.git");
    expect(pb.apps.worker?.repo).toBe(path.resolve(`${FIXTURES}/full/repos/worker`));
    expect(pb.apps.web?.environments.production).toEqual({
      name: "production",
      app: "web",
      squad: "prod",
      ref: "release/2024",
      size: { web: 6, worker: 2 },
      ingredients: ["common", "tracing"],
      env: { DATABASE_URL: "postgres://web:pw@db/web", LOG_LEVEL: "warn" },
      settings: { feature_x: false },
      balancer: "edge",
      pool: "web_production",
      healthcheck: "/up",
      listen: ["web", "api"],
      release_hook: ["npm", "run", "migrate"],
      drain_ms: 5_000,
      uptest_timeout_ms: 90_000,
      startsecs: 3,
      access: {
        deploy: ["@deployers"],
        scale: ["U0123ABCD"],
        rollback: ["ops@example.com"],
        config: ["@leads"],
        lock: ["@ops"],
        approve: ["@leads"],
      },
      approval: { required: true, timeout_ms: 3_600_000, approvers: ["@leads", "U0999ZZZZ"] },
      freeze: ["Fri 16:00 - Mon 08:00", "2024-12-20 - 2025-01-02"],
      channels: ["#web", "C0123ABCD"],
    });
    expect(pb.apps.web?.environments.staging).toEqual({
      name: "staging",
      app: "web",
      squad: "bed",
      ref: "main",
      size: { web: 1 },
      ingredients: [],
      env: {},
      settings: {},
      balancer: "dev",
      pool: "web_staging", // <app>_<env> when only a balancer is given
      listen: ["web"], // neither the environment nor the app says: [web]
      drain_ms: 0,
      uptest_timeout_ms: 60_000,
      startsecs: 1, // supervisord's default
      access: {},
      approval: { required: false, timeout_ms: 1_800_000 },
      freeze: [],
      channels: [],
    });
    expect(pb.apps.worker?.environments.staging?.release_hook).toEqual(["bin/migrate", "--yes"]);
    // An app-level `listen` is the default of its environments: this app's procs take no port.
    expect(pb.apps.worker?.environments.staging?.listen).toEqual([]);
  });
});

describe("mistakes", () => {
  it("reports every mistake of every file, in file and line order", async () => {
    const s = `${FIXTURES}/mistakes/squads.yaml`;
    const w = `${FIXTURES}/mistakes/web.yaml`;
    expect(await loadIssues(`${FIXTURES}/mistakes`)).toEqual([
      `${s}:3: squads.prod.hosts[1] lists "app1" twice`,
      `${s}:4: unknown key "usr" in squads.prod.ssh. Did you mean \`user\`?`,
      `${s}:4: squads.prod.ssh.user is required when transport is ssh (the user Raptor logs in as)`,
      `${s}:5: squads.prod.ports must stay within ports 1-65535, got "70000-70001"`,
      `${s}:8: balancers.edge.kind must be one of nginx, varnish, haproxy, stingray, memory, got "ngnix"`,
      `${w}:6: apps.web.environments.production.squad refers to squad "prdo", which is not defined. Did you mean \`prod\`?`,
      `${w}:7: unknown key "sise" in apps.web.environments.production. Did you mean \`size\`?`,
      `${w}:8: apps.web.environments.production.size.web must be a whole number of procs from 0 to 100, got "six"`,
      `${w}:9: apps.web.environments.production.balancer refers to balancer "egde", which is not defined. Did you mean \`edge\`?`,
      `${w}:10: apps.web.environments.production.drain must be a duration like 500ms, 5s, 2m or 1h, got "5 seconds"`,
      `${w}:11: apps.web.environments.production.approval.timeout must be a duration like 500ms, 5s, 2m or 1h, got "soon"`,
      `${w}:12: apps.web.environments.production.freeze[0] is not a freeze window ("Fir 16:00 - Mon 08:00"): unknown day "Fir". Did you mean \`Fri\`?`,
      `${w}:13: apps.web.environments.production.channels[0] must be a channel name like "#web" or a channel id like C0123ABCD, got "web"`,
      `${w}:16: apps.web.environments.staging.pool needs a balancer: add \`balancer: <name>\` next to it`,
    ]);
  });

  it("names both places when a name is defined in two files, and a channel bound twice", async () => {
    const a = `${FIXTURES}/duplicates/a.yaml`;
    const b = `${FIXTURES}/duplicates/b.yaml`;
    expect(await loadIssues(`${FIXTURES}/duplicates`)).toEqual([
      `${b}:3: squad "shared" is defined twice: here and at ${a}:2`,
      `${b}:7: app "web" is defined twice: here and at ${a}:6`,
      `${b}:14: apps.api.environments.staging.channels[0] binds "#web", which is already bound to web staging (${a}:9)`,
    ]);
  });

  it("promote_from must name another environment of the same app, at its file and line", async () => {
    const w = `${FIXTURES}/promote/web.yaml`;
    expect(await loadIssues(`${FIXTURES}/promote`)).toEqual([
      `${w}:8: apps.web.environments.production.promote_from refers to environment of web "stagin", which is not defined. Did you mean \`staging\`?`,
      `${w}:9: apps.web.environments.canary.promote_from names canary itself; name the environment whose commits canary takes, like staging`,
    ]);
  });

  it("reports a YAML syntax error at its line with the parser's message", async () => {
    expect(await loadIssues(`${FIXTURES}/syntax`)).toEqual([`${FIXTURES}/syntax/bad.yaml:4: YAML syntax error: bad indentation of a mapping entry`]);
  });

  it("puts every issue on its own line of the error message", async () => {
    const error = await loadPlaybooks(`${FIXTURES}/duplicates`, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlaybookError);
    expect((error as PlaybookError).message.split("\n")).toHaveLength(3);
  });

  it("refuses a directory with no playbooks", async () => {
    expect(await loadIssues(`${FIXTURES}/no-such-dir`)).toEqual([
      expect.stringMatching(/^test\/fixtures\/playbooks\/no-such-dir: cannot read the playbook directory/),
    ]);
  });
});

/** A valid playbook to break one line of; `web.yaml` line numbers are stable. */
const SQUADS = `squads:
  prod:
    hosts: [app1]
    ssh: { user: deploy }
balancers:
  edge: { kind: memory }
ingredients:
  common: {}
`;
const web = (envLines: string) => `apps:
  web:
    repo: ./web
    environments:
      production:
        squad: prod
${envLines
  .trim()
  .split("\n")
  .map((l) => `        ${l}`)
  .join("\n")}
`;

function issuesOf(files: Record<string, string>, env: Record<string, string> = {}): string[] {
  const result = parsePlaybookFiles(
    Object.entries(files).map(([p, text]) => ({ path: p, text })),
    env,
  );
  return result.ok ? [] : result.issues.map(formatIssue);
}

describe("each kind of mistake, one at a time", () => {
  const P = "apps.web.environments.production";
  const cases: [string, string, string][] = [
    ["whole number", "size: { web: six }", `web.yaml:7: ${P}.size.web must be a whole number of procs from 0 to 100, got "six"`],
    ["negative size", "size: { web: -1 }", `web.yaml:7: ${P}.size.web must be a whole number of procs from 0 to 100, got -1`],
    ["fractional size", "size: { web: 1.5 }", `web.yaml:7: ${P}.size.web must be a whole number of procs from 0 to 100, got 1.5`],
    ["unknown key", "sise: { web: 2 }", `web.yaml:7: unknown key "sise" in ${P}. Did you mean \`size\`?`],
    ["unknown key, no suggestion", "colour: blue", `web.yaml:7: unknown key "colour" in ${P}.`],
    ["bad proc type", "size: { Web: 2 }", `web.yaml:7: ${P}.size: "Web" is not a valid name (names use lowercase letters, digits, "-" and "_", start with a letter or digit, and are at most 63 characters)`],
    ["unknown squad", "balancer: edg", `web.yaml:7: ${P}.balancer refers to balancer "edg", which is not defined. Did you mean \`edge\`?`],
    ["unknown ingredient", "ingredients: [common, secrets]", `web.yaml:7: ${P}.ingredients[1] refers to ingredient "secrets", which is not defined; the ingredients are common`],
    ["pool without balancer", "pool: web", `web.yaml:7: ${P}.pool needs a balancer: add \`balancer: <name>\` next to it`],
    ["duration", "drain: 5", `web.yaml:7: ${P}.drain must be a duration like 500ms, 5s, 2m or 1h, got 5`],
    ["startsecs, not a number", "startsecs: soon", `web.yaml:7: ${P}.startsecs must be a whole number of seconds from 0 to 600 (supervisord's startsecs: how long a proc must stay up to count as started), like 1, got "soon"`],
    ["startsecs, negative", "startsecs: -1", `web.yaml:7: ${P}.startsecs must be a whole number of seconds from 0 to 600 (supervisord's startsecs: how long a proc must stay up to count as started), like 1, got -1`],
    ["startsecs, a duration", "startsecs: 2s", `web.yaml:7: ${P}.startsecs must be a whole number of seconds from 0 to 600 (supervisord's startsecs: how long a proc must stay up to count as started), like 1, got "2s"`],
    ["uptest timeout", "uptest_timeout: fast", `web.yaml:7: ${P}.uptest_timeout must be a duration like 500ms, 5s, 2m or 1h, got "fast"`],
    ["freeze window", 'freeze: ["Fri 16:00 - Mon 8"]', `web.yaml:7: ${P}.freeze[0] is not a freeze window ("Fri 16:00 - Mon 8"): "8" is not a time (write HH:MM, 00:00 to 24:00)`],
    ["channel as a comment", "channels: #web", `web.yaml:7: ${P}.channels must be a list of channels like ["#web"] (quote them: a bare # starts a YAML comment), got nothing (null)`],
    ["healthcheck", "healthcheck: up", `web.yaml:7: ${P}.healthcheck must be a URL path starting with /, like /up, got "up"`],
    ["ref", "ref: main..evil", `web.yaml:7: ${P}.ref must be a git branch, tag or commit (it contains ".."), got "main..evil"`],
    ["approval flag", "approval: { required: yes }", `web.yaml:7: ${P}.approval.required must be true or false, got "yes"`],
    ["approver", 'access: { approve: ["Leads Team"] }', `web.yaml:7: ${P}.access.approve[0] must be a Slack user id (U0123ABCD), an email, a user group ("@leads"), a terminal user name (lead) or *, got "Leads Team"`],
    ["env value", "env: { A: null }", `web.yaml:7: ${P}.env.A must be a string (environment variables are text), got nothing (null)`],
    ["env var name", "env: { 9LIVES: x }", `web.yaml:7: ${P}.env: "9LIVES" is not a valid environment variable name (letters, digits and _, not starting with a digit)`],
    ["missing env var", 'env: { DB: "${WEB_DB}" }', `web.yaml:7: ${P}.env.DB uses \${WEB_DB}, which is not set: set WEB_DB in the environment, or give a default with \${WEB_DB:-default}`],
    ["malformed reference", 'env: { DB: "${WEB DB}" }', `web.yaml:7: ${P}.env.DB has a malformed reference \${WEB DB}: write \${NAME} or \${NAME:-default}`],
  ];
  it.each(cases)("%s", (_, line, expected) => {
    expect(issuesOf({ "squads.yaml": SQUADS, "web.yaml": web(line) })).toEqual([expected]);
  });

  const squadCases: [string, string, string][] = [
    ["inverted ports", "ports: 5999-5000", `squads.yaml:5: squads.prod.ports must start with the lower port (5000-5999), got "5999-5000"`],
    ["ports out of range", "ports: 0-10", `squads.yaml:5: squads.prod.ports must stay within ports 1-65535, got "0-10"`],
    ["ports not a range", "ports: lots", `squads.yaml:5: squads.prod.ports must be a port range like 5000-5999, got "lots"`],
    ["transport", "transport: telnet", `squads.yaml:5: squads.prod.transport must be "ssh" or "local", got "telnet"`],
    ["placeholder", "root: /apps/{hots}", "squads.yaml:5: squads.prod.root has an unknown placeholder {hots}: only {host} is replaced. Did you mean `{host}`?"],
  ];
  it.each(squadCases)("%s", (_, line, expected) => {
    const squads = SQUADS.replace("    ssh: { user: deploy }\n", `    ssh: { user: deploy }\n    ${line}\n`);
    expect(issuesOf({ "squads.yaml": squads, "web.yaml": web("size: { web: 1 }") })).toEqual([expected]);
  });

  it("falls back to the parent's line for a missing key", () => {
    const text = "apps:\n  web:\n    repo: ./web\n    environments:\n      production:\n        size: { web: 1 }\n";
    expect(issuesOf({ "squads.yaml": SQUADS, "web.yaml": text })).toEqual([`web.yaml:5: ${P}.squad is required`]);
  });

  it("requires ssh.user for an ssh squad", () => {
    const squads = "squads:\n  prod:\n    hosts: [app1]\n";
    expect(issuesOf({ "squads.yaml": squads, "web.yaml": web("size: { web: 1 }") })).toEqual([
      "squads.yaml:2: squads.prod.ssh is required when transport is ssh (the user Raptor logs in as)",
    ]);
  });

  const envNameCases: [string, string, string[]][] = [
    ["a dash", "prod-eu", ['web.yaml:5: apps.web.environments: "prod-eu" is not a valid environment name: environment names may not contain "-" (it separates the parts of proc names); use "_"']],
    ["a trailing dash", "staging-", ['web.yaml:5: apps.web.environments: "staging-" is not a valid environment name: environment names may not contain "-" (it separates the parts of proc names); use "_"']],
    ["not a name at all", "Prod-EU", ['web.yaml:5: apps.web.environments: "Prod-EU" is not a valid name (names use lowercase letters, digits, "-" and "_", start with a letter or digit, and are at most 63 characters)']],
    ["an underscore", "prod_eu", []],
    ["plain", "production", []],
  ];
  it.each(envNameCases)("environment name with %s", (_, name, expected) => {
    expect(issuesOf({ "squads.yaml": SQUADS, "web.yaml": web("size: { web: 1 }").replace("production:", `${name}:`) })).toEqual(expected);
  });

  it("refuses unknown top-level keys and malformed names", () => {
    expect(issuesOf({ "x.yaml": "squad:\n  a: {}\napps:\n  Web: {}\n" })).toEqual([
      'x.yaml:1: unknown key "squad" at the top of the file. Did you mean `squads`?',
      'x.yaml:4: apps: "Web" is not a valid name (names use lowercase letters, digits, "-" and "_", start with a letter or digit, and are at most 63 characters)',
    ]);
  });

  it("merges YAML anchors with <<", () => {
    const text = `apps:
  web:
    repo: ./web
    environments:
      staging: &defaults
        squad: prod
        size: { web: 2 }
        drain: 1s
      production:
        <<: *defaults
        size: { web: 6 }
`;
    const result = parsePlaybookFiles([{ path: "squads.yaml", text: SQUADS }, { path: "web.yaml", text }], {});
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join("\n"));
    expect(result.playbook.apps.web?.environments.production).toMatchObject({ squad: "prod", size: { web: 6 }, drain_ms: 1_000 });
  });

  it("accepts an empty file", () => {
    expect(parsePlaybookFiles([{ path: "empty.yaml", text: "# nothing yet\n" }], {})).toEqual({
      ok: true,
      playbook: { squads: {}, balancers: {}, ingredients: {}, apps: {}, beat: DEFAULT_BEAT, secrets: [] },
    });
  });
});

describe("secrets", () => {
  const env = { DEPLOY_HOST: "10.0.0.5", SUPERVISOR_PASSWORD: "sup-pw-123", DB_PASSWORD: "hunter22", API_TOKEN: "tok", SSH_PORT: "2200" };

  it("substitutes ${VAR} and ${VAR:-default}, typed where the schema needs numbers", async () => {
    const pb = await loadPlaybooks(`${FIXTURES}/secrets`, env);
    expect(pb.squads.prod).toMatchObject({ hosts: ["10.0.0.5"], ssh: { user: "deploy", port: 2200 }, supervisor: { password: "sup-pw-123" } });
    expect(pb.apps.web?.environments.production?.size).toEqual({ web: 2 });
    expect(pb.apps.web?.environments.production?.env).toEqual({
      DATABASE_URL: "postgres://web:hunter22@db/web",
      TOKEN: "tok",
      LITERAL: "${NOT_SUBSTITUTED}",
    });
  });

  it("records every value taken from the environment and masks those of 4 characters or more", async () => {
    const pb = await loadPlaybooks(`${FIXTURES}/secrets`, env);
    // ...and a URL carrying a password is a secret whole (issue 11: secrets are values, by source or by shape).
    expect([...pb.secrets].sort()).toEqual(["10.0.0.5", "2200", "hunter22", "postgres://web:hunter22@db/web", "sup-pw-123", "tok"]);
    const text = "connecting to postgres://web:hunter22@db/web as sup-pw-123 with tok on 10.0.0.5, password hunter22";
    expect(maskSecrets(pb, text)).toBe("connecting to [REDACTED] as [REDACTED] with tok on [REDACTED], password [REDACTED]");
  });

  it("reports each missing variable at its line", async () => {
    const f = `${FIXTURES}/secrets/pb.yaml`;
    expect(await loadIssues(`${FIXTURES}/secrets`, { DB_PASSWORD: "x" })).toEqual([
      `${f}:3: squads.prod.hosts[0] uses \${DEPLOY_HOST}, which is not set: set DEPLOY_HOST in the environment, or give a default with \${DEPLOY_HOST:-default}`,
      `${f}:5: squads.prod.supervisor.password uses \${SUPERVISOR_PASSWORD}, which is not set: set SUPERVISOR_PASSWORD in the environment, or give a default with \${SUPERVISOR_PASSWORD:-default}`,
      `${f}:15: apps.web.environments.production.env.TOKEN uses \${API_TOKEN}, which is not set: set API_TOKEN in the environment, or give a default with \${API_TOKEN:-default}`,
    ]);
  });

  it("never echoes a secret in an issue", () => {
    expect(issuesOf({ "squads.yaml": SQUADS, "web.yaml": web('drain: "${DRAIN}"') }, { DRAIN: "hunter22" })).toEqual([
      'web.yaml:7: apps.web.environments.production.drain must be a duration like 500ms, 5s, 2m or 1h, got "[REDACTED]"',
    ]);
  });

  it("uses the default when the variable is empty, as the shell does", () => {
    const text = 'squads:\n  s:\n    hosts: ["${H:-h1}"]\n    transport: local\n';
    const result = parsePlaybookFiles([{ path: "s.yaml", text }], { H: "" });
    expect(result.ok && result.playbook.squads.s?.hosts).toEqual(["h1"]);
  });
});

describe("playbook values round-trip (issue 11 item 3)", () => {
  const P = "apps.web.environments.production.env";
  it.each([
    ["ZIP: 01234", `web.yaml:8: ${P}.ZIP is 01234 without quotes, which YAML reads as the number 1234: write "01234" (in quotes) to pass it to the procs as written`],
    ["APP_VERSION: 1.10", `web.yaml:8: ${P}.APP_VERSION is 1.10 without quotes, which YAML reads as the number 1.1: write "1.10" (in quotes) to pass it to the procs as written`],
    ["COLOR: 0x1F", `web.yaml:8: ${P}.COLOR is 0x1F without quotes, which YAML reads as the number 31: write "0x1F" (in quotes) to pass it to the procs as written`],
    ["BIG: 1e3", `web.yaml:8: ${P}.BIG is 1e3 without quotes, which YAML reads as the number 1000: write "1e3" (in quotes) to pass it to the procs as written`],
    ["FLAG: True", `web.yaml:8: ${P}.FLAG is True without quotes, which YAML reads as the boolean true: write "True" (in quotes) to pass it to the procs as written`],
  ])("%s is refused at its line", (line, issue) => {
    expect(issuesOf({ "squads.yaml": SQUADS, "web.yaml": web(`env:\n  ${line}`) })).toEqual([issue]);
  });

  it("keeps scalars whose text survives, and quoted ones, as written", () => {
    const r = parsePlaybookFiles([{ path: "squads.yaml", text: SQUADS }, { path: "web.yaml", text: web(`env: { PORT_HINT: 8080, DEBUG: true, ZIP: "01234", V: '1.10', RATIO: 0.5 }`) }], {});
    expect(r.ok && r.playbook.apps.web?.environments.production?.env).toEqual({ PORT_HINT: "8080", DEBUG: "true", ZIP: "01234", V: "1.10", RATIO: "0.5" });
  });

  it("checks ingredients' env the same way", () => {
    const ing = "ingredients:\n  zipped:\n    env:\n      ZIP: 01234\n";
    expect(issuesOf({ "squads.yaml": SQUADS, "ing.yaml": ing, "web.yaml": web("ingredients: [zipped]") })).toEqual([
      `ing.yaml:4: ingredients.zipped.env.ZIP is 01234 without quotes, which YAML reads as the number 1234: write "01234" (in quotes) to pass it to the procs as written`,
    ]);
  });
});

describe("the demo as a newcomer meets it (issue 11 item 12, the new-user trial)", () => {
  it.each(["2026-11-28T10:00:00Z", "2026-11-29T23:00:00Z", "2027-06-05T12:00:00Z"])("production is not frozen on the weekend day %s", async (at) => {
    const pb = await loadPlaybooks("playbooks/examples", {});
    expect(isFrozen(pb.apps.hello!.environments.production!.freeze, new Date(at))).toBe(false);
  });

  it("still shows a freeze window that works (the holiday one)", async () => {
    const pb = await loadPlaybooks("playbooks/examples", {});
    expect(isFrozen(pb.apps.hello!.environments.production!.freeze, new Date("2026-12-25T12:00:00Z"))).toBe(true);
  });

  it("loads several playbook directories, a:b, as one: a local directory adds an app without touching playbooks/examples", async () => {
    const local = await mkdtemp(path.join(tmpdir(), "raptor-pb-local-"));
    await writeFile(path.join(local, "mine.yaml"), "apps:\n  mine:\n    repo: ./mine\n    working_copy: true\n    environments:\n      local: { squad: local }\n");
    const pb = await loadPlaybooks(`playbooks/examples${path.delimiter}${local}`, {});
    expect(Object.keys(pb.apps).sort()).toEqual(["hello", "mine"]);
    expect(pb.apps.mine).toMatchObject({ repo: path.join(local, "mine"), working_copy: true });
    // A name in both directories is the usual mistake, naming both places.
    await writeFile(path.join(local, "mine.yaml"), "apps:\n  hello:\n    repo: ./hello\n    environments:\n      local: { squad: local }\n");
    const issues = await loadIssues(`playbooks/examples${path.delimiter}${local}`);
    expect(issues.join("\n")).toMatch(/mine\.yaml:2: .*hello.*playbooks\/examples\/hello\.yaml/);
  });

  it("refuses working_copy with a remote repo, at file:line", async () => {
    const r = parsePlaybookFiles([{ path: "a.yaml", text: "squads:\n  s: { hosts: [h], transport: local }\napps:\n  web:\n    repo: https://git.example.com/web.git\n    working_copy: true\n    environments:\n      prod: { squad: s }\n" }]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map(formatIssue)).toEqual([expect.stringMatching(/^a\.yaml:6: .*working_copy.*needs a local directory/)]);
  });
});

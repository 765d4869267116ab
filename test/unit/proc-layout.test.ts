import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  buildTarballPath,
  expandRoot,
  parseProcName,
  procEnv,
  procName,
  procPaths,
  renderEnvFile,
  renderProcYaml,
  renderRunScript,
  renderSettingsYaml,
  renderSupervisorProgram,
  UnsafeLayoutError,
  withEnvFile,
  ENV_FILE_LAUNCHER,
  PROC_BASE_ENV,
} from "../../runners/proc-layout.ts";
import { RESERVED_ENV_KEYS } from "../../lib/names.ts";
import { shellQuote } from "../../runners/shell.ts";

describe("procName", () => {
  it.each([
    [{ app: "web", env: "production", release: 42, procType: "web", port: 5003 }, "web-production-v42-web-5003"],
    [{ app: "my-app", env: "staging", release: 1, procType: "worker", index: 0 }, "my-app-staging-v1-worker-w0"],
    [{ app: "api", env: "prod_eu", release: 7, procType: "clock", index: 12 }, "api-prod_eu-v7-clock-w12"],
    [{ app: "my-app", env: "prod", release: 3, procType: "web-api", port: 5001 }, "my-app-prod-v3-web-api-5001"],
    [{ app: "api", env: "prod", release: 3, procType: "web-api", index: 0 }, "api-prod-v3-web-api-w0"],
  ])("%j -> %s and back", (parts, name) => {
    expect(procName(parts)).toBe(name);
    expect(parseProcName(name)).toEqual({ name, ...parts });
  });

  it.each([
    { app: "a b", env: "p", release: 1, procType: "web", port: 1 },
    { app: "a", env: "pre-prod", release: 1, procType: "web", port: 1 },
    { app: "a", env: "p", release: 0, procType: "web", port: 1 },
    { app: "a", env: "p", release: 1, procType: "we:b", port: 1 },
    { app: "a", env: "p", release: 1, procType: "web", port: 70000 },
    { app: "a", env: "p", release: 1, procType: "web" },
    { app: "../x", env: "p", release: 1, procType: "web", port: 1 },
  ])("refuses %j", (parts) => {
    expect(() => procName(parts)).toThrow(UnsafeLayoutError);
  });

  it.each(["supervisord", "web", "web-production-42-web-5003", "web-production-v42-web-50x", "-x-v1-web-1", "nginx:nginx_00"])(
    "foreign name %s does not parse",
    (name) => expect(parseProcName(name)).toBeUndefined(),
  );
});

describe("paths", () => {
  it("lays a proc out under the root", () => {
    expect(procPaths("/apps", "web-production-v42-web-5003")).toEqual({
      dir: "/apps/procs/web-production-v42-web-5003",
      procYaml: "/apps/procs/web-production-v42-web-5003/proc.yaml",
      settingsYaml: "/apps/procs/web-production-v42-web-5003/settings.yaml",
      envFile: "/apps/procs/web-production-v42-web-5003/.raptor/env",
      runScript: "/apps/procs/web-production-v42-web-5003/.raptor/run.sh",
      supervisorConf: "/apps/supervisor/web-production-v42-web-5003.conf",
      stdoutLog: "/apps/logs/web-production-v42-web-5003.log",
    });
    expect(buildTarballPath("/apps", "b-1f2e3d")).toBe("/apps/builds/b-1f2e3d.tar.gz");
  });

  it.each([
    ["/srv/{host}/apps", "127.0.0.2", "/srv/127.0.0.2/apps"],
    ["/apps/", "h1", "/apps"],
  ])("expandRoot(%s, %s) = %s", (root, host, out) => expect(expandRoot(root, host)).toBe(out));

  it.each(["apps", "/a b", "/a/../etc", "/a%b", "/a;b", "/a\nb", "/a'b"])("refuses root %j", (root) => {
    expect(() => expandRoot(root, "h")).toThrow(UnsafeLayoutError);
  });

  it.each(["../x", "a/b", "a:b", "", "a b"])("refuses proc name / build id %j", (bad) => {
    expect(() => procPaths("/apps", bad)).toThrow(UnsafeLayoutError);
    expect(() => buildTarballPath("/apps", bad)).toThrow(UnsafeLayoutError);
  });
});

describe("proc.yaml and settings.yaml", () => {
  it("renders Velociraptor's runner keys", () => {
    const text = renderProcYaml({
      port: 5003,
      host: "127.0.0.2",
      env: { PORT: "5003", SECRET: "a'b\nc" },
      settings: { db: { pool: 5 } },
      cmd: "node server.js",
      buildUrl: "file:///apps/builds/b1.tar.gz",
      buildMd5: "d41d8cd98f00b204e9800998ecf8427e",
      procType: "web",
    });
    expect(text).toBe(
      [
        "port: 5003",
        "host: 127.0.0.2",
        "env:",
        "  PORT: '5003'",
        "  SECRET: |-",
        "    a'b",
        "    c",
        "settings:",
        "  db:",
        "    pool: 5",
        "cmd: node server.js",
        "build_url: file:///apps/builds/b1.tar.gz",
        "build_md5: d41d8cd98f00b204e9800998ecf8427e",
        "proc_name: web",
        "",
      ].join("\n"),
    );
    expect((load(text) as { env: unknown }).env).toEqual({ PORT: "5003", SECRET: "a'b\nc" });
  });

  it("settings round-trip; empty settings are {}", () => {
    const settings = { a: "@How's it going?", b: [1, "yes", null], c: { d: "0123" } };
    expect(load(renderSettingsYaml(settings))).toEqual(settings);
    expect(renderSettingsYaml({})).toBe("{}\n");
  });
});

describe("env", () => {
  it("Raptor's keys win over config", () => {
    expect(procEnv({ hostName: "h", port: 5000, settingsYaml: "/s.yaml", config: { PORT: "1", HOST: "x", A: "b" } })).toEqual({
      A: "b",
      HOST: "h",
      APP_SETTINGS_YAML: "/s.yaml",
      PORT: "5000",
    });
    expect(procEnv({ hostName: "h", settingsYaml: "/s.yaml", config: {} })).not.toHaveProperty("PORT");
  });

  it("sets exactly the names `config set` and playbooks refuse as reserved (RESERVED_ENV_KEYS)", () => {
    const proc = { app: "a", env: "e", release: 1, procType: "web", name: "a-e-v1-web-5000" };
    const own = Object.keys(procEnv({ hostName: "h", port: 5000, settingsYaml: "/s.yaml", config: {}, proc }));
    expect(own.sort()).toEqual([...RESERVED_ENV_KEYS].sort());
  });

  it("renders the env file exactly", () => {
    expect(renderEnvFile({ A: "plain", B: "it's", C: "" })).toBe("export A=plain\nexport B='it'\\''s'\nexport C=''\n");
  });

  const hostile: Record<string, string> = {
    QUOTE: `it's "quoted"`,
    SUBST: "$(touch /tmp/pwned) `id` ${HOME}",
    NEWLINE: "line1\nexport PWNED=1\nline3",
    SEMI: "a; rm -rf / # b",
    BACKSLASH: "a\\nb\\",
    PERCENT: "100%(here)s",
    GLOB: "* ? [a]",
    TILDE: "x:~/y",
    UNICODE: "héllo ✓ \u2028",
  };

  it("hostile values reach the proc byte for byte through run.sh's env file", () => {
    const dir = mkdtempSync(join(tmpdir(), "raptor-env-"));
    try {
      const envFile = join(dir, "env");
      writeFileSync(envFile, renderEnvFile(hostile));
      const script = join(dir, "run.sh");
      writeFileSync(script, renderRunScript({ dir, envFile, cmd: `node -e 'process.stdout.write(JSON.stringify(process.env))'` }), { mode: 0o700 });
      const seen = JSON.parse(execFileSync(script, { env: { PATH: process.env.PATH ?? "" } }).toString()) as Record<string, string>;
      for (const [k, v] of Object.entries(hostile)) expect(seen[k]).toBe(v);
      expect(seen.PWNED).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("run.sh and withEnvFile give exactly the base (PATH, LANG, HOME/USER/LOGNAME of the user) and the env file, nothing of the caller's environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "raptor-env-"));
    try {
      const envFile = join(dir, "env");
      writeFileSync(envFile, renderEnvFile({ GREETING: "hi", PORT: "5000" }));
      const script = join(dir, "run.sh");
      const printEnv = `node -e 'process.stdout.write(JSON.stringify(process.env))'`;
      writeFileSync(script, renderRunScript({ dir, envFile, cmd: printEnv }), { mode: 0o700 });
      // What supervisord (or sshd, or Raptor's worker) would pass down: its own secrets.
      const caller = { PATH: "/usr/bin:/bin", HOME: "/nowhere", RAPTOR_SECRET_KEY: "planted-key", SUPERVISOR_ENABLED: "1", MAKEFLAGS: "-j2" };
      const [cmd, ...rest] = withEnvFile(envFile, ["sh", "-c", printEnv]);
      const user = execFileSync("id", ["-un"]).toString().trim();
      const home = execFileSync("getent", ["passwd", user]).toString().split(":")[5]!;
      for (const out of [execFileSync(script, { env: caller }), execFileSync(cmd!, rest, { env: caller, cwd: dir })]) {
        const seen = JSON.parse(out.toString()) as Record<string, string>;
        expect(seen).toEqual({ ...PROC_BASE_ENV, HOME: home, USER: user, LOGNAME: user, PWD: dir, GREETING: "hi", PORT: "5000" });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("withEnvFile: a constant script; the env file and the command are its arguments", () => {
    expect(withEnvFile("/apps/procs/p/.raptor/env", ["/apps/procs/p/uptests/web/http", "h", "5000"])).toEqual([
      "/usr/bin/env",
      "-i",
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "LANG=C.UTF-8",
      "sh",
      "-c",
      ENV_FILE_LAUNCHER,
      "sh",
      "/apps/procs/p/.raptor/env",
      "/apps/procs/p/uptests/web/http",
      "h",
      "5000",
    ]);
    expect(() => withEnvFile("/e", [])).toThrow(UnsafeLayoutError);
  });

  it("withEnvFile: the command sees the env file's values and gets hostile arguments exactly", () => {
    const dir = mkdtempSync(join(tmpdir(), "raptor-env-"));
    try {
      const envFile = join(dir, "env");
      writeFileSync(envFile, renderEnvFile(hostile));
      const args = ["$(id)", "a b", "'\"", "-n", ""];
      const [cmd, ...rest] = withEnvFile(envFile, ["node", "-e", "process.stdout.write(JSON.stringify({ env: process.env, argv: process.argv.slice(1) }))", ...args]);
      const seen = JSON.parse(execFileSync(cmd!, rest, { env: { PATH: process.env.PATH ?? "" } }).toString()) as { env: Record<string, string>; argv: string[] };
      for (const [k, v] of Object.entries(hostile)) expect(seen.env[k]).toBe(v);
      expect(seen.argv).toEqual(args);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([["1BAD"], ["A-B"], ["A B"], [""], ["A=B"]])("refuses env key %j", (key) => {
    expect(() => renderEnvFile({ [key]: "v" })).toThrow(UnsafeLayoutError);
  });
});

describe("run.sh", () => {
  it("runs the Procfile line as one sh -c word", () => {
    expect(renderRunScript({ dir: "/apps/procs/p", envFile: "/apps/procs/p/.raptor/env", cmd: "node server.js --port $PORT" })).toBe(
      [
        "#!/bin/sh",
        "# Written by Raptor. Runs the Procfile command with the release's environment, and nothing of supervisord's.",
        "set -e",
        "cd /apps/procs/p",
        `exec /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 sh -c ${shellQuote(ENV_FILE_LAUNCHER)} sh /apps/procs/p/.raptor/env /bin/sh -c 'node server.js --port $PORT'`,
        "",
      ].join("\n"),
    );
  });
});

describe("renderSupervisorProgram", () => {
  const base = { name: "web-production-v42-web-5003", command: ["/apps/procs/web-production-v42-web-5003/.raptor/run.sh"], directory: "/apps/procs/web-production-v42-web-5003", stdoutLog: "/apps/logs/web-production-v42-web-5003.log" };

  it("renders the program section exactly", () => {
    expect(renderSupervisorProgram({ ...base, env: { A: "x y,z=1", B: "100%", C: "it's", D: "" } })).toBe(
      [
        "[program:web-production-v42-web-5003]",
        "command=/apps/procs/web-production-v42-web-5003/.raptor/run.sh",
        "directory=/apps/procs/web-production-v42-web-5003",
        'environment=A="x y,z=1",B="100%%",C="it\'s",D=""',
        "autostart=false",
        "autorestart=true",
        "startsecs=1",
        "startretries=3",
        "stopasgroup=true",
        "killasgroup=true",
        "stopwaitsecs=10",
        "redirect_stderr=true",
        "stdout_logfile=/apps/logs/web-production-v42-web-5003.log",
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=2",
        "",
      ].join("\n"),
    );
  });

  it("writes the environment's startsecs (supervisord's meaning), 1 when unset, and refuses a non-whole number", () => {
    expect(renderSupervisorProgram({ ...base, startSecs: 0 })).toContain("\nstartsecs=0\n");
    expect(renderSupervisorProgram({ ...base, startSecs: 15 })).toContain("\nstartsecs=15\n");
    expect(renderSupervisorProgram(base)).toContain("\nstartsecs=1\n");
    expect(() => renderSupervisorProgram({ ...base, startSecs: -1 })).toThrow("startsecs must be a whole number of seconds, got -1");
    expect(() => renderSupervisorProgram({ ...base, startSecs: 1.5 })).toThrow("startsecs must be a whole number of seconds, got 1.5");
  });

  it("quotes argv for supervisor's shlex and escapes %", () => {
    const text = renderSupervisorProgram({ ...base, command: ["/bin/echo", "it's", "50%", "a b"] });
    expect(text).toContain("command=/bin/echo 'it'\\''s' 50%% 'a b'\n");
  });

  // Each of these would change the ini (a new line, a comment) or be altered by supervisor's parser.
  it.each([
    ["newline", "a\nautostart=true"],
    ["carriage return", "a\rautostart=true"],
    ["double quote", 'a"b'],
    ["leading single quote", "'a"],
    ["trailing single quote", "a'"],
    ["inline comment ;", "a ;b"],
    ["inline comment #", "a #b"],
    ["NUL", "a\0b"],
    ["tab", "a\tb"],
    ["%(here)s (replaced before % expansion)", "x%(here)sy"],
  ])("refuses an env value with a %s", (_what, value) => {
    expect(() => renderSupervisorProgram({ ...base, env: { SECRET: value } })).toThrow(UnsafeLayoutError);
    try {
      renderSupervisorProgram({ ...base, env: { SECRET: value } });
    } catch (e) {
      // The error names the key but never prints the value, which may be a secret.
      expect((e as Error).message).toContain("SECRET");
      if (value.length > 2) expect((e as Error).message).not.toContain(value);
    }
  });

  it.each([
    ["program name with colon", { ...base, name: "a:b" }],
    ["program name with newline", { ...base, name: "a\n[program:x]" }],
    ["directory with space", { ...base, directory: "/a b" }],
    ["log path with ;", { ...base, stdoutLog: "/a;b" }],
    ["command with newline", { ...base, command: ["/bin/echo", "a\ncommand=/bin/sh"] }],
    ["bad env key", { ...base, env: { "A=B": "x" } }],
    ["bad user", { ...base, user: "root\nuser=x" }],
  ])("refuses %s", (_what, input) => {
    expect(() => renderSupervisorProgram(input)).toThrow(UnsafeLayoutError);
  });
});

import { describe, expect, it } from "vitest";
import { directive, nginxConfigArgv, nginxControl, parseChildren, refusalIn, reloadTook } from "../../balancers/nginx-reload.ts";

describe("nginxConfigArgv: the argv that reads the running master's configuration", () => {
  it.each([
    { reload: ["nginx", "-s", "reload"], validate: ["nginx", "-t"], want: ["nginx"] },
    { reload: ["/usr/sbin/nginx", "-p", "/srv/x", "-c", "/srv/x/n.conf", "-s", "reload"], validate: ["true"], want: ["/usr/sbin/nginx", "-p", "/srv/x", "-c", "/srv/x/n.conf"] },
    { reload: ["sudo", "-n", "nginx", "-s", "reload"], validate: ["sudo", "-n", "nginx", "-t"], want: ["sudo", "-n", "nginx"] },
    { reload: ["systemctl", "reload", "nginx"], validate: ["nginx", "-t", "-q"], want: ["nginx"] },
    { reload: ["systemctl", "reload", "nginx"], validate: ["nginx", "-c", "/etc/nginx/nginx.conf", "-t"], want: ["nginx", "-c", "/etc/nginx/nginx.conf"] },
    { reload: ["systemctl", "reload", "nginx"], validate: ["/usr/local/bin/check-nginx"], want: undefined },
    { reload: ["systemctl", "reload", "nginx"], validate: [], want: undefined },
    // `nginx -s reopen` is not a reload: the validator names the config instead.
    { reload: ["nginx", "-s", "reopen"], validate: ["nginx", "-t"], want: ["nginx"] },
    { reload: ["openresty", "-s", "reload"], validate: ["sh", "-c", "true"], want: undefined },
  ])("reload $reload, validate $validate → $want", ({ reload, validate, want }) => {
    expect(nginxConfigArgv(reload, validate)).toEqual(want);
  });
});

describe("nginxControl: the pid file and error log of an instance", () => {
  const V = "nginx version: nginx/1.22.1\nconfigure arguments: --prefix=/usr/share/nginx --pid-path=/run/nginx.pid --error-log-path=/var/log/nginx/error.log";
  it.each([
    { what: "pid and error_log from the config", argv: ["nginx"], dump: "# configuration file /etc/nginx/nginx.conf:\nuser www-data;\npid /run/n1.pid;\nerror_log /var/log/n1.log warn;\n", want: { pidFile: "/run/n1.pid", errorLog: "/var/log/n1.log" } },
    { what: "the build's defaults when the config sets neither", argv: ["nginx"], dump: "events {}\n", want: { pidFile: "/run/nginx.pid", errorLog: "/var/log/nginx/error.log" } },
    { what: "-g and -e win; relative paths are under -p", argv: ["nginx", "-p", "/srv/p", "-g", "pid logs/x.pid;", "-e", "/tmp/e.log"], dump: "pid /run/other.pid;\n", want: { pidFile: "/srv/p/logs/x.pid", errorLog: "/tmp/e.log" } },
    { what: "a commented-out pid is not read", argv: ["nginx"], dump: "# pid /run/old.pid;\npid  \"/run/q.pid\" ;\n", want: { pidFile: "/run/q.pid", errorLog: "/var/log/nginx/error.log" } },
    { what: "error_log to stderr or syslog is no file", argv: ["nginx"], dump: "error_log syslog:server=unix:/dev/log;\n", want: { pidFile: "/run/nginx.pid", errorLog: undefined } },
    { what: "-e stderr", argv: ["nginx", "-e", "stderr"], dump: "", want: { pidFile: "/run/nginx.pid", errorLog: undefined } },
  ])("$what", ({ argv, dump, want }) => {
    expect(nginxControl(argv, dump, V)).toEqual(want);
  });

  it("no pid file named anywhere is an error saying so", () => {
    expect(() => nginxControl(["nginx"], "", "nginx version: nginx/1.22.1")).toThrow("neither its configuration nor `nginx -V` names a pid file");
  });

  it("directive takes the first, and not a word inside another directive's value", () => {
    expect(directive("log_format x '$pid';\nworker_processes 1;\npid /a.pid;\npid /b.pid;", "pid")).toBe("/a.pid");
    expect(directive("http { proxy_pass http://pid; }", "pid")).toBeUndefined();
  });
});

describe("reloadTook: new workers up and no old worker still accepting", () => {
  const before = new Set([10, 11]);
  const ps = (text: string) => parseChildren(text);
  it.each([
    { what: "nothing new yet", now: " 10 nginx: worker process\n 11 nginx: cache manager process\n", took: false },
    { what: "new workers, old ones not yet told to stop (the master's 100 ms)", now: " 10 nginx: worker process\n 12 nginx: worker process\n", took: false },
    { what: "new workers, old ones shutting down", now: " 10 nginx: worker process is shutting down\n 12 nginx: worker process\n", took: true },
    { what: "new workers, old ones gone", now: " 12 nginx: worker process\n 13 nginx: cache manager process\n", took: true },
    { what: "an old cache manager may linger", now: " 11 nginx: cache manager process\n 12 nginx: worker process\n", took: true },
    { what: "nothing at all (the master is gone)", now: "", took: false },
  ])("$what → $took", ({ now, took }) => {
    expect(reloadTook(before, ps(now))).toBe(took);
  });

  it("parseChildren reads ps's pid= and args= columns", () => {
    expect(ps("  4242 nginx: worker process\n\n 7 nginx: worker process is shutting down \n")).toEqual([
      { pid: 4242, title: "nginx: worker process" },
      { pid: 7, title: "nginx: worker process is shutting down" },
    ]);
  });
});

describe("refusalIn: why the master refused, from what its error log gained", () => {
  it.each([
    { log: "", want: undefined },
    { log: "2026/11/30 03:25:55 [notice] 1#1: signal process started\n", want: undefined },
    {
      log: "2026/11/30 03:25:55 [notice] 9#9: signal process started\n2026/11/30 03:25:55 [emerg] 1#1: bind() to 127.0.0.1:80 failed (98: Address already in use)\n",
      want: "2026/11/30 03:25:55 [emerg] 1#1: bind() to 127.0.0.1:80 failed (98: Address already in use)",
    },
  ])("$want", ({ log, want }) => {
    expect(refusalIn(log)).toBe(want);
  });
});

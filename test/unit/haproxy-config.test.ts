import { describe, expect, it } from "vitest";
import {
  HaproxyInputError,
  isRuntimeAddable,
  parseBackendFile,
  parseServersState,
  parseStatSessions,
  poolFile,
  renderBackend,
  runtimeCommand,
  runtimeFailure,
  serverName,
  socketArgv,
  splitBatchAnswer,
} from "../../balancers/haproxy-config.ts";

describe("serverName", () => {
  it.each([
    ["10.0.0.5:8001", "10.0.0.5:8001"],
    ["app1.internal:80", "app1.internal:80"],
    ["127.0.0.2:65535", "127.0.0.2:65535"],
  ])("%s -> %s", (node, name) => expect(serverName(node)).toBe(name));

  it.each(["10.0.0.5", "10.0.0.5:0", "10.0.0.5:65536", "[::1]:80", "a b:80", "h;rm -rf /:80", "h/x:80", ":80", "h:8a", "web/x:1"])(
    "rejects %j",
    (node) => expect(() => serverName(node)).toThrow(HaproxyInputError),
  );
});

describe("isRuntimeAddable", () => {
  it.each([
    ["10.0.0.5:8001", true],
    ["127.0.0.2:80", true],
    ["app1.internal:80", false],
    ["999.0.0.1:80", false],
  ])("%s -> %s", (node, want) => expect(isRuntimeAddable(node)).toBe(want));
});

describe("renderBackend / parseBackendFile", () => {
  it("writes one sorted server line per node, named after the node", () => {
    expect(renderBackend("web", ["10.0.0.6:80", "10.0.0.5:80", "10.0.0.5:80"])).toBe(
      [
        "# Written by Raptor: the servers of this pool. Changes made here are replaced on the next route.",
        "backend web",
        "  balance roundrobin",
        "  server 10.0.0.5:80 10.0.0.5:80",
        "  server 10.0.0.6:80 10.0.0.6:80",
        "",
      ].join("\n"),
    );
  });
  it("an empty pool is a backend with no servers", () => {
    expect(renderBackend("web", [])).toContain("backend web\n  balance roundrobin\n");
    expect(parseBackendFile(renderBackend("web", []))).toEqual([]);
  });
  it("reads back what it wrote", () => {
    expect(parseBackendFile(renderBackend("web", ["b:2", "a:1"]))).toEqual(["a:1", "b:2"]);
  });
  it.each(["web pool", "web;x", "", "web/x", "wéb"])("rejects pool name %j", (pool) => expect(() => renderBackend(pool, [])).toThrow(HaproxyInputError));
  it("places the file in the include dir", () => expect(poolFile("/etc/haproxy/raptor/", "web")).toBe("/etc/haproxy/raptor/web.cfg"));
});

describe("runtime commands", () => {
  it.each([
    [runtimeCommand.showServersState("web"), "show servers state web"],
    [runtimeCommand.showStat("web"), "show stat web 4 -1"],
    [runtimeCommand.addServer("web", "10.0.0.5:80"), "add server web/10.0.0.5:80 10.0.0.5:80"],
    [runtimeCommand.setState("web", "10.0.0.5:80", "ready"), "set server web/10.0.0.5:80 state ready"],
    [runtimeCommand.setState("web", "10.0.0.5:80", "drain"), "set server web/10.0.0.5:80 state drain"],
    [runtimeCommand.setState("web", "10.0.0.5:80", "maint"), "set server web/10.0.0.5:80 state maint"],
    [runtimeCommand.shutdownSessions("web", "10.0.0.5:80"), "shutdown sessions server web/10.0.0.5:80"],
    [runtimeCommand.delServer("web", "10.0.0.5:80"), "del server web/10.0.0.5:80"],
  ])("%s", (got, want) => expect(got).toBe(want));

  it("cannot smuggle a second command through a name", () => {
    expect(() => runtimeCommand.addServer("web; shutdown", "10.0.0.5:80")).toThrow(HaproxyInputError);
    expect(() => runtimeCommand.delServer("web", "10.0.0.5:80; del server web/x")).toThrow(HaproxyInputError);
  });

  it("socat argv, and socket paths socat would misread", () => {
    expect(socketArgv("/run/haproxy/admin.sock")).toEqual(["socat", "-t", "10", "stdio", "unix-connect:/run/haproxy/admin.sock"]);
    for (const bad of ["run/admin.sock", "/run/a,b.sock", "/run/a:b", "/run/a!b", "/run/a b"]) expect(() => socketArgv(bad)).toThrow(HaproxyInputError);
  });
});

describe("runtimeFailure", () => {
  it.each([
    ["add server web/a:1 a:1", "New server registered.\n\n", undefined],
    ["add server web/a:1 a:1", "Already exists a server with the same name in backend.\n\n", "Already exists a server with the same name in backend."],
    ["del server web/a:1", "Server deleted.\n\n", undefined],
    ["del server web/a:1", "No such server.\n\n", "No such server."],
    ["set server web/a:1 state ready", "\n", undefined],
    ["set server web/a:1 state ready", "No such server.\n\n", "No such server."],
    ["show servers state web", "Can't find backend.\n\n", "Can't find backend."],
    ["show servers state web", "1\n# be_id\n", undefined],
    ["add server web/a:1 a:1", "", "no answer"],
  ])("%s / %j", (cmd, answer, want) => expect(runtimeFailure(cmd, answer)).toBe(want));
});

describe("parsers", () => {
  it("show servers state: names and admin state; a missing backend is undefined", () => {
    const answer = [
      "1",
      "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight",
      "3 web 1 127.0.0.1:9999 127.0.0.1 2 0 1 1 15 1 0 2 0 0 0 0 - 9999 - 0 0 - - 0",
      "3 web 2 127.0.0.1:9998 127.0.0.1 2 8 1 1 0 1 0 0 0 0 0 0 - 9998 - 0 0 - - 0",
      "",
    ].join("\n");
    expect(parseServersState(answer)).toEqual([
      { name: "127.0.0.1:9999", adminState: 0 },
      { name: "127.0.0.1:9998", adminState: 8 },
    ]);
    expect(parseServersState("1\n# be_id be_name\n\n")).toEqual([]);
    expect(parseServersState("Can't find backend.\n\n")).toBeUndefined();
  });
  it("show stat: sessions plus queue per server", () => {
    const csv = "# pxname,svname,qcur,qmax,scur,smax\nweb,10.0.0.5:80,1,0,2,5\nweb,10.0.0.6:80,0,0,0,3\n";
    expect([...parseStatSessions(csv)]).toEqual([
      ["10.0.0.5:80", 3],
      ["10.0.0.6:80", 0],
    ]);
  });
});

describe("splitBatchAnswer", () => {
  it("splits empty answers and one-line messages, as HAProxy 2.6 sends them", () => {
    // add; ready; ready(no such); add; drain — the bytes HAProxy 2.6 answered.
    const answer = "New server registered.\n\n\nNo such server.\n\nNew server registered.\n\n\n";
    expect(splitBatchAnswer(answer, 5)).toEqual(["New server registered.", "", "No such server.", "New server registered.", ""]);
  });
  it("a short answer leaves the rest empty", () => expect(splitBatchAnswer("\n", 3)).toEqual(["", "", ""]));
});

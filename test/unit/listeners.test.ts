import { describe, expect, it } from "vitest";
import { blocks, busyPorts, parseProcNetTcp, parseSs, saysPortTaken } from "../../runners/listeners.ts";

describe("listening sockets", () => {
  it("parses ss -Hltn, IPv4, IPv6, wildcards and interface-scoped addresses", () => {
    const out = [
      "LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*",
      "LISTEN 0      5          127.0.0.2:41050     0.0.0.0:*",
      "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*",
      "LISTEN 0      511                *:80              *:*",
      "LISTEN 0      128             [::]:22           [::]:*",
      "LISTEN 0      128            [::1]:631          [::]:*",
      "",
    ].join("\n");
    expect(parseSs(out)).toEqual([
      { address: "127.0.0.53", port: 53 },
      { address: "127.0.0.2", port: 41050 },
      { address: "0.0.0.0", port: 22 },
      { address: "*", port: 80 },
      { address: "::", port: 22 },
      { address: "::1", port: 631 },
    ]);
  });

  it("parses /proc/net/tcp and tcp6, keeping only LISTEN rows", () => {
    const tcp = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0200007F:A03A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0",
      "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0",
      "   2: 0200007F:A03B 0300007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0",
      "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4 1 0 100 0 0 10 0",
      "   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5 1 0 100 0 0 10 0",
      "   2: 0000000000000000FFFF00000200007F:A03C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 6 1 0 100 0 0 10 0",
    ].join("\n");
    expect(parseProcNetTcp(tcp)).toEqual([
      { address: "127.0.0.2", port: 41018 },
      { address: "0.0.0.0", port: 22 },
      { address: "::", port: 22 },
      { address: "::1", port: 631 },
      { address: "127.0.0.2", port: 41020 },
    ]);
  });

  it.each([
    ["0.0.0.0", "127.0.0.2", true],
    ["::", "10.0.0.5", true],
    ["*", "app1.internal", true],
    ["127.0.0.2", "127.0.0.2", true],
    ["::ffff:127.0.0.2", "127.0.0.2", true],
    ["127.0.0.3", "127.0.0.2", false],
    ["10.0.0.5", "app1.internal", true],
    ["127.0.0.1", "app1.internal", false],
    ["127.0.0.1", "localhost", true],
    ["10.0.0.5", "localhost", false],
  ])("a listener on %s blocks a proc binding %s: %s", (address, host, expected) => {
    expect(blocks(address, host)).toBe(expected);
  });

  it("busy ports are those in the range, held for this host, and not leased to Raptor's procs", () => {
    const listeners = [
      { address: "127.0.0.2", port: 41050 },
      { address: "127.0.0.2", port: 41051 },
      { address: "127.0.0.3", port: 41052 },
      { address: "0.0.0.0", port: 41053 },
      { address: "0.0.0.0", port: 22 },
      { address: "127.0.0.2", port: 41050 },
    ];
    expect(busyPorts(listeners, "127.0.0.2", { from: 41050, to: 41059 }, new Set([41051]))).toEqual([41050, 41053]);
  });

  it.each([
    ["OSError: [Errno 98] Address already in use", true],
    ["Error: listen EADDRINUSE: address already in use 127.0.0.2:41050", true],
    ["listen tcp 127.0.0.2:41050: bind: address already in use", true],
    ["FATAL: cannot open database", false],
  ])("%s says the port is taken: %s", (text, expected) => {
    expect(saysPortTaken(text)).toBe(expected);
  });
});

import { describe, expect, it } from "vitest";
import { BalancerError } from "../../balancers/balancer.ts";
import { NGINX_PLACEHOLDER, parseNginxPool, renderNginxPool } from "../../balancers/nginx-config.ts";
import { checkNodes, checkPool } from "../../balancers/nodes.ts";

describe("nginx pool files (pure)", () => {
  it("renders one upstream named after the pool, one server line per node", () => {
    expect(renderNginxPool("edge", "web_production", ["10.0.0.1:5000", "10.0.0.2:5001"])).toBe(
      [
        "# Written by Raptor (balancer edge, pool web_production). Raptor rewrites this file on every",
        "# deployment: change the server block that proxies to http://web_production instead.",
        "upstream web_production {",
        "    server 10.0.0.1:5000;",
        "    server 10.0.0.2:5001;",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("an empty pool keeps one placeholder server marked down, which parses as no node", () => {
    const text = renderNginxPool("edge", "web", []);
    expect(text).toContain(`    server ${NGINX_PLACEHOLDER} down; # raptor: empty pool placeholder\n`);
    expect(parseNginxPool(text)).toEqual([]);
  });

  const roundTrips: [string, string[]][] = [
    ["one node", ["127.0.0.1:41000"]],
    ["names and addresses", ["app1.internal:5000", "app2.internal:5000", "10.1.2.3:65535"]],
    ["no node", []],
  ];
  it.each(roundTrips)("parse(render(nodes)) = nodes: %s", (_, nodes) => {
    expect(parseNginxPool(renderNginxPool("edge", "web", nodes))).toEqual(nodes);
  });

  it("reads server lines an operator wrote by hand, with their parameters", () => {
    expect(parseNginxPool("upstream web {\n  server 10.0.0.1:80 weight=2 max_fails=3;\n\tserver 10.0.0.2:80;\n}\n")).toEqual(["10.0.0.1:80", "10.0.0.2:80"]);
  });
});

describe("nodes and pools that reach a config file", () => {
  it("sorts nodes by host, then by port as a number, and drops repeats", () => {
    expect(checkNodes("edge", ["b:80", "a:5000", "a:443", "a:443"])).toEqual(["a:443", "a:5000", "b:80"]);
  });

  const hostile = [
    "10.0.0.1:5000; } server evil:80; upstream x {",
    "10.0.0.1:5000\nserver evil:80",
    "10.0.0.1 :5000",
    "10.0.0.1:0",
    "10.0.0.1:70000",
    "10.0.0.1",
    ":5000",
    "-oProxyCommand=x:22",
    "$(id):80",
    "host_name:80",
  ];
  it.each(hostile)("refuses %j with a BalancerError", (node) => {
    expect(() => checkNodes("edge", [node])).toThrow(BalancerError);
    expect(() => checkNodes("edge", [node])).toThrow(/is not a node \(host:port, port 1-65535\)/);
  });

  it("refuses a pool name that could end a directive", () => {
    expect(() => checkPool("edge", "web;evil")).toThrow(/balancer edge: "web;evil" is not a pool name/);
    expect(() => checkPool("edge", "web_production")).not.toThrow();
  });
});

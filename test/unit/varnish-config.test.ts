import { describe, expect, it } from "vitest";
import { backendName, parsePoolsVcl, parseVarnishPool, renderPoolsVcl, renderVarnishPool, VCL_POOL } from "../../balancers/varnish-config.ts";

describe("Varnish pool files (pure)", () => {
  it("renders a backend per node and a round-robin director named after the pool", () => {
    expect(renderVarnishPool("cache", "web", ["10.0.0.1:5000", "app-2.internal:80"])).toBe(
      [
        "# Written by Raptor (balancer cache, pool web). Raptor rewrites this file on every",
        "# deployment: route to it with `set req.backend_hint = web.backend();` in your own VCL.",
        "import directors;",
        'backend web__10_0_0_1__5000 { .host = "10.0.0.1"; .port = "5000"; }',
        'backend web__app_2_internal__80 { .host = "app-2.internal"; .port = "80"; }',
        "sub vcl_init {",
        "    new web = directors.round_robin();",
        "    web.add_backend(web__10_0_0_1__5000);",
        "    web.add_backend(web__app_2_internal__80);",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("an empty pool is a director with no backend (valid VCL; requests get a 503)", () => {
    const text = renderVarnishPool("cache", "web", []);
    expect(text).toContain("    new web = directors.round_robin();\n}");
    expect(text).not.toContain("backend web__");
    expect(parseVarnishPool(text)).toEqual([]);
  });

  const roundTrips: string[][] = [[], ["127.0.0.1:41000"], ["a.internal:80", "b.internal:80", "10.0.0.9:65535"]];
  it.each(roundTrips.map((n) => [n.length, n] as const))("parse(render(%i nodes)) gives them back", (_, nodes) => {
    expect(parseVarnishPool(renderVarnishPool("cache", "web", nodes))).toEqual(nodes);
  });

  it("backend names are distinct VCL names per pool and node", () => {
    expect(backendName("api", "10.0.0.1:80")).toBe("api__10_0_0_1__80");
    expect(backendName("api", "10.0.0.1:80")).not.toBe(backendName("web", "10.0.0.1:80"));
  });

  it("pools.vcl includes every pool once, by absolute path, in name order", () => {
    const text = renderPoolsVcl("/etc/varnish/raptor", ["web", "api", "web"]);
    expect(text).toBe(
      "# Written by Raptor: every pool of this balancer. Include this file once from your main VCL.\n" +
        'include "/etc/varnish/raptor/api.vcl";\ninclude "/etc/varnish/raptor/web.vcl";\n',
    );
    expect(parsePoolsVcl(text)).toEqual(["api", "web"]);
  });

  it.each([["web_production", true], ["web", true], ["web.prod", false], ["web-prod", false], ["1web", false], ["", false]] as const)(
    "pool name %j is a VCL name: %s",
    (pool, ok) => expect(VCL_POOL.test(pool)).toBe(ok),
  );
});

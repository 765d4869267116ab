import { describe, expect, it } from "vitest";
import { errorText, nodesTable, poolUrl, putBody, withNodesActive, withNodesDraining, withoutNodes, type NodesTableRow } from "../../balancers/stingray-api.ts";

const row = (node: string, state: NodesTableRow["state"] = "active", weight = 1): NodesTableRow => ({ node, state, weight });

describe("stingray nodes_table changes", () => {
  it("adds new nodes active with weight 1, sorted, after the existing rows", () => {
    expect(withNodesActive([row("b:1", "active", 5)], ["c:1", "a:1", "b:1"])).toEqual([row("b:1", "active", 5), row("a:1"), row("c:1")]);
  });
  it("re-activates a draining or disabled node instead of adding it twice", () => {
    expect(withNodesActive([row("a:1", "draining"), row("b:1", "disabled")], ["a:1", "b:1"])).toEqual([row("a:1"), row("b:1")]);
  });
  it("drains only the named nodes, then removes only them", () => {
    const t = [row("a:1"), row("b:1")];
    expect(withNodesDraining(t, ["a:1", "z:9"])).toEqual([row("a:1", "draining"), row("b:1")]);
    expect(withoutNodes(t, ["a:1"])).toEqual([row("b:1")]);
  });
  it("puts only the nodes table", () => expect(putBody([row("a:1")])).toEqual({ properties: { basic: { nodes_table: [row("a:1")] } } }));
});

describe("stingray URLs and answers", () => {
  it.each([
    ["https://vtm:9070/api/tm/7.0", "web", "https://vtm:9070/api/tm/7.0/config/active/pools/web"],
    ["https://vtm:9070/api/tm/7.0/", "web_production", "https://vtm:9070/api/tm/7.0/config/active/pools/web_production"],
    ["https://vtm:9070/api/tm/7.0", "a b/../c", "https://vtm:9070/api/tm/7.0/config/active/pools/a%20b%2F..%2Fc"],
  ])("%s + %s", (base, pool, want) => expect(poolUrl(base, pool)).toBe(want));

  it("reads the table, refusing an answer that is not a pool", () => {
    expect(nodesTable({ properties: { basic: { nodes_table: [row("a:1")] } } })).toEqual([row("a:1")]);
    expect(() => nodesTable({ properties: {} })).toThrow("no properties.basic.nodes_table");
  });

  it.each([
    [401, '{"error_id":"auth.invalid","error_text":"Authentication failed"}', "HTTP 401 auth.invalid: Authentication failed"],
    [502, "<html>bad gateway</html>", "HTTP 502: <html>bad gateway</html>"],
    [500, "", "HTTP 500"],
  ])("error %i %s", (status, raw, want) => expect(errorText(status, raw)).toBe(want));
});

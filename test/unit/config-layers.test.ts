import { describe, expect, it } from "vitest";
import { layerConfig, overridesFor, setOwn } from "../../engine/config-layers.ts";
import { parse } from "../../bot/grammar.ts";

/** Keys that name parts of JavaScript objects are ordinary config keys end to end (issue 8 section 5). */
describe("config keys __proto__, constructor, prototype", () => {
  const typed = parse("config set app local __proto__=polluted constructor=x prototype=y");

  it("the grammar keeps them as keys", () => {
    expect(typed).toMatchObject({ ok: true, command: { kind: "config-set" } });
    const vars = (typed as { command: { vars: Record<string, string> } }).command.vars;
    expect(Object.keys(vars).sort()).toEqual(["__proto__", "constructor", "prototype"]);
  });

  it("a config change sets them as own keys, and no object's prototype changes", () => {
    const vars = (typed as { command: { vars: Record<string, string> } }).command.vars;
    const config = layerConfig({ A: "1" }, {}, {});
    for (const [k, v] of Object.entries(vars)) setOwn(config, k, v);
    expect(Object.entries(config).sort()).toEqual([["A", "1"], ["__proto__", "polluted"], ["constructor", "x"], ["prototype", "y"]]);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
  });

  it("a rollback's overrides keep them", () => {
    const wanted = JSON.parse('{"__proto__":"polluted","constructor":"x","A":"1"}') as Record<string, string>;
    const out = overridesFor(wanted, { A: "1" });
    expect(Object.entries(out).sort()).toEqual([["__proto__", "polluted"], ["constructor", "x"]]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

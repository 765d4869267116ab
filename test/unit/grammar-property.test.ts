import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ParseContext, ParseResult } from "../../bot/command.ts";
import { isRef } from "../../lib/names.ts";
import { parse } from "../../bot/grammar.ts";
import { VERBS } from "../../bot/help.ts";

/**
 * parse never throws and always answers one of the two shapes, for arbitrary text (all of
 * Unicode, lone surrogates included) and for sequences of the grammar's own words, which reach
 * much deeper into the parser than random text does.
 */

const KINDS = new Set([
  "deploy", "rollback", "scale", "restart", "status", "releases", "logs", "config", "config-set",
  "config-unset", "lock", "unlock", "approve", "reject", "cancel", "show", "apps", "hosts", "queue", "beat", "help",
  "plan", "promote", "deploys", "who-deployed",
]);

function expectShape(r: ParseResult): void {
  if (r.ok) {
    expect(Object.keys(r).sort()).toEqual(["command", "ok"]);
    expect(KINDS.has(r.command.kind)).toBe(true);
  } else {
    expect(Object.keys(r).sort()).toEqual(["error", "ok"]);
    expect(typeof r.error).toBe("string");
    expect(r.error.length).toBeGreaterThan(0);
  }
}

const contexts: fc.Arbitrary<ParseContext> = fc.constantFrom<ParseContext>(
  {},
  { app: "web", env: "production" },
  { app: "web" },
  { apps: ["hello", "web"], envs: { web: ["production", "staging"], hello: ["production"] } },
  { app: "web", env: "production", apps: ["hello", "web"], envs: { web: ["production", "staging"] } },
  { app: "Not Valid", env: 42 as unknown as string, apps: [], envs: {} },
);

const vocabulary = fc.constantFrom(
  ...VERBS, "Deploy", "DEPLOY!", "set", "unset", "to", "web", "hello", "production", "staging", "prod",
  "worker", "v1.4.2", "v41", "41", "0", "5000", "5001", "web@v1.4.2", "web/feature-x", "feature/x",
  "@", "/", "web@", "web=6", "worker=101", "web=", "=6", "LOG_LEVEL=debug", 'A="two words"', 'B="open',
  "C=“x y”", "__proto__=1", "constructor=1", "KEY", "#d-k3j9x2ab", "d-k3j9x2ab", "<@U123>", "<@U1|raptor>",
  "&amp;", "&lt;", "&gt;", ";", "&&", "|", "$(id)", "`id`", ">", "..", "-rf", "d\u0435ploy", "\uff44eploy",
  "\u200b", "\u202e", "\u0000", "\ud800", "\u{1f680}", "é", "'", "\"", "“", "”", "\n", "",
);

const tokenSequences = fc
  .array(fc.tuple(vocabulary, fc.constantFrom(" ", "  ", "\t", "\u00a0", "")), { maxLength: 8 })
  .map((parts) => parts.map(([word, space]) => word + space).join(" "));

describe("parse is total", () => {
  it("never throws on arbitrary Unicode text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), contexts, (text, ctx) => {
        expectShape(parse(text, ctx));
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on arbitrary grapheme text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), contexts, (text, ctx) => {
        expectShape(parse(text, ctx));
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on sequences of the grammar's words", () => {
    fc.assert(
      fc.property(tokenSequences, contexts, (text, ctx) => {
        expectShape(parse(text, ctx));
      }),
      { numRuns: 5000 },
    );
  });

  it("a known verb followed by anything parses to that verb's kind, or errs", () => {
    fc.assert(
      fc.property(fc.constantFrom("restart", "logs", "scale", "lock"), tokenSequences, contexts, (verb, rest, ctx) => {
        const r = parse(`${verb} ${rest}`, ctx);
        expectShape(r);
        if (r.ok) expect(r.command.kind).toBe(verb);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws past the length limit", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 2001, maxLength: 2100 }), (text) => {
        const r = parse(text, {});
        expectShape(r);
      }),
      { numRuns: 50 },
    );
  });

  it("accepted commands only hold printable-ASCII names and valid refs", () => {
    fc.assert(
      fc.property(tokenSequences, contexts, (text, ctx) => {
        const r = parse(text, ctx);
        if (!r.ok) return;
        const c = r.command as Record<string, unknown>;
        for (const field of ["app", "env", "proc", "squad", "id"]) {
          if (c[field] !== undefined) expect(c[field]).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
        }
        if (c.ref !== undefined) {
          // git's own rule, checked against git itself in test/unit/ref-name.test.ts
          expect(c.ref).toMatch(/^[\x21-\x7e]+$/);
          expect(isRef(c.ref as string)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

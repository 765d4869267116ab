import { describe, expect, it } from "vitest";
import { formatIssue, parsePlaybookFiles } from "../../playbooks/load.ts";

/**
 * Red-team finding (issue 8, MEDIUM): a playbook with a YAML alias bomb ("billion laughs": nine
 * aliases of nine aliases, nine levels deep) hung the loader for over 100 s with no error. Now
 * the file is refused at the alias where it passes the limit, quickly; ordinary anchors and
 * merge keys still load.
 */
const issuesOf = (text: string) => {
  const r = parsePlaybookFiles([{ path: "pb.yaml", text }], {});
  return r.ok ? [] : r.issues.map(formatIssue);
};

/** `levels` lines of nine aliases of the line before, as settings of an ingredient (line 4 on). */
function laughs(levels: number): string {
  const lines = ["      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i < levels; i++) lines.push(`      l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]`);
  return ["ingredients:", "  bomb:", "    settings:", ...lines].join("\n") + "\n";
}

const BOMB = "looks like a YAML alias bomb: write the values out, or use fewer aliases of aliases";

describe("YAML alias bombs in playbooks", () => {
  const refused: [string, string, string][] = [
    ["nine levels of nine (a billion values)", laughs(9), `pb.yaml:9: aliases (*l4 here) make this file stand for more than 100,000 values, which ${BOMB}`],
    ["six levels of nine (half a million)", laughs(6), `pb.yaml:9: aliases (*l4 here) make this file stand for more than 100,000 values, which ${BOMB}`],
    ["an alias inside its own anchor (a loop)", "ingredients:\n  loop:\n    settings: &s\n      again: *s\n", "pb.yaml:4: alias *s refers to the value that contains it, which would never end: refer to an anchor outside it"],
    ["a loop through a flow list", "ingredients:\n  loop:\n    settings:\n      l: &l [a, [b, *l]]\n", "pb.yaml:4: alias *l refers to the value that contains it, which would never end: refer to an anchor outside it"],
  ];
  it.each(refused)("%s is refused at its line, at once", (_, text, expected) => {
    const started = performance.now();
    expect(issuesOf(text)).toEqual([expected]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  const accepted: [string, string][] = [
    ["five levels of nine (59,049 values)", laughs(5)],
    [
      "a block merged into 150 environments",
      [
        "ingredients:",
        "  base:",
        "    env: &common { LOG_LEVEL: info, REGION: eu }",
        ...Array.from({ length: 150 }, (_, i) => `  i${i}:\n    env: { <<: *common, N: "${i}" }`),
      ].join("\n") + "\n",
    ],
  ];
  it.each(accepted)("%s loads", (_, text) => {
    expect(issuesOf(text)).toEqual([]);
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Issue 7's import rules, checked on every file rather than grepped once: the layer order is
 * bot -> engine -> runners / balancers -> playbooks -> db -> lib (DESIGN.md), and nothing points
 * back up. Type-only imports count too: a type from a higher layer is still a dependency on it.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const LAYERS = ["bin", "bot", "engine", "runners", "balancers", "playbooks", "db", "lib"] as const;
type Layer = (typeof LAYERS)[number];
/** Lower rank = higher layer. runners and balancers are side by side. */
const RANK: Record<Layer, number> = { bin: 0, bot: 1, engine: 2, runners: 3, balancers: 3, playbooks: 4, db: 5, lib: 6 };

interface Edge {
  from: string;
  to: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const files = LAYERS.flatMap(tsFiles);
const sources = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));
/** Every relative import (static, dynamic, re-export) as repo paths, and every package import. */
const edges: Edge[] = [];
const packages: Edge[] = [];
for (const [from, src] of sources) {
  for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)"([^"]+)"/gm)) {
    const spec = m[1]!;
    if (spec.startsWith(".")) edges.push({ from, to: relative(ROOT, resolve(ROOT, dirname(from), spec)) });
    else packages.push({ from, to: spec });
  }
}
const layerOf = (path: string) => path.split("/")[0] as Layer;
const show = (es: readonly Edge[]) => es.map((e) => `${e.from} -> ${e.to}`);

describe("import graph (issue 7)", () => {
  it("finds the files and their imports", () => {
    expect(files.length).toBeGreaterThan(200);
    expect(edges.length).toBeGreaterThan(500);
  });

  it.each<[string, (e: Edge) => boolean]>([
    [
      "no arrow up the layers (balancers may use runners' Host)",
      (e) => {
        const [a, b] = [layerOf(e.from), layerOf(e.to)];
        if (!(b in RANK) || a === b) return false;
        if (a === "balancers" && b === "runners") return false;
        return RANK[b] <= RANK[a];
      },
    ],
    ["the bot reaches hosts and balancers only through the engine", (e) => layerOf(e.from) === "bot" && ["runners", "balancers"].includes(layerOf(e.to))],
    ["no pipeline file imports the API", (e) => e.from.startsWith("engine/pipeline/") && e.to === "engine/api.ts"],
    [
      "steps do not import sibling steps (shared helpers live in engine/pipeline/swarm.ts)",
      (e) => e.from.startsWith("engine/pipeline/steps/") && e.from !== "engine/pipeline/steps/index.ts" && dirname(e.to) === "engine/pipeline/steps",
    ],
  ])("%s", (_, bad) => {
    expect(show(edges.filter(bad))).toEqual([]);
  });

  it("queries have a home: drizzle-orm is imported only under db/", () => {
    expect(show(packages.filter((p) => p.to.startsWith("drizzle-orm") && layerOf(p.from) !== "db"))).toEqual([]);
  });
});

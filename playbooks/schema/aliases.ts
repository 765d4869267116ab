/**
 * YAML alias bombs ("billion laughs"): nine aliases of nine aliases of ... a few lines that stand
 * for a billion values. js-yaml (which reads the values) shares an aliased value instead of copying
 * it, so loading is quick, but every walk over the result (substitution, validation) visits each
 * alias's value again: nine levels hung the loader for minutes. A file whose aliases expand it past
 * MAX_EXPANDED_VALUES is refused at the alias where it passes the limit.
 *
 * Counted here on the `yaml` package's document rather than with that package's `maxAliasCount`:
 * the values are read by js-yaml, which has no such option, and `maxAliasCount` counts the uses
 * of an anchor (an ordinary `<<: *defaults` merged into 101 environments would pass its default
 * limit) and names no line.
 */
import { isAlias, isCollection, isPair, type Document, type Node } from "yaml";

/** Values (scalars, lists, mappings, each key and value counted) a file may expand to through aliases. */
export const MAX_EXPANDED_VALUES = 100_000;

/** Where a file's aliases go too far: the offset in the text of the alias, and what is wrong. */
export interface AliasProblem {
  offset: number;
  message: string;
}

/**
 * Walks `doc` once, in document order, counting each value as often as aliases make a reader
 * visit it (an anchored value's expanded size is computed once and reused). Returns the first
 * alias that refers to the value containing it (a loop) or that takes the count past `limit`.
 */
export function aliasProblem(doc: Pick<Document, "contents">, limit = MAX_EXPANDED_VALUES): AliasProblem | undefined {
  const anchors = new Map<string, Node>();
  /** Expanded size of each anchored value; absent while the value is still being walked. */
  const sizes = new Map<Node, number>();
  let total = 0;
  let problem: AliasProblem | undefined;

  const walk = (node: unknown): number => {
    if (problem || node === null || typeof node !== "object") return 0;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const at = node.range?.[0] ?? 0;
      if (!target) return 1; // an unknown anchor: js-yaml reports it with its own message
      const size = sizes.get(target);
      if (size === undefined) {
        problem = { offset: at, message: `alias *${node.source} refers to the value that contains it, which would never end: refer to an anchor outside it` };
        return 0;
      }
      total += size;
      if (total > limit) {
        problem = {
          offset: at,
          message: `aliases (*${node.source} here) make this file stand for more than ${limit.toLocaleString("en")} values, which looks like a YAML alias bomb: write the values out, or use fewer aliases of aliases`,
        };
      }
      return size;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node as Node);
    total += 1;
    let size = 1;
    if (isCollection(node)) {
      for (const item of node.items) size += isPair(item) ? walk(item.key) + walk(item.value) : walk(item);
    }
    size = Math.min(size, limit + 1);
    if (anchor) sizes.set(node as Node, size);
    return size;
  };

  walk(doc.contents);
  return problem;
}

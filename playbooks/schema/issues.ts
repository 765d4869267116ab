/**
 * Turning mistakes into `file:line: message`. Lines come from the `yaml` package's CST (the
 * values themselves are read by js-yaml); a path that is not in the file (a missing key) falls
 * back to the nearest parent that is.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { didYouMean } from "../../lib/suggest.ts";
import type { PlaybookIssue } from "../types.ts";
import { aliasProblem } from "./aliases.ts";
import type { IssueParams } from "./common.ts";

export type PathKey = string | number;

/** `apps.web.environments.production.channels[1]` */
export function dotted(path: readonly PathKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out === "" ? key : `.${key}`;
  return out;
}

/** A value as a person would recognise it in a message. */
export function describe(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

export function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PathKey, unknown>)[key];
  }
  return v;
}

/** Finds the line of a path in one file's text. */
export class SourceLines {
  private readonly counter = new LineCounter();
  private readonly root: unknown;
  /** No document at all: only whitespace and comments. */
  readonly empty: boolean;

  /** The first alias that loops or expands the file too far (see aliases.ts), with its line. */
  readonly aliasProblem: { line: number; message: string } | undefined;

  constructor(text: string) {
    const doc = parseDocument(text, { lineCounter: this.counter, uniqueKeys: false });
    this.root = doc.contents;
    this.empty = this.root === null && !/^\s*[^#\s]/m.test(text);
    const problem = aliasProblem(doc);
    this.aliasProblem = problem && { line: this.line(problem.offset), message: problem.message };
  }

  /** 1-based line of the key (for mappings) or item (for lists) at `path`, or its nearest parent. */
  lineOf(path: readonly PathKey[]): number {
    let node = this.root as Node | null;
    let line = node?.range ? this.line(node.range[0]) : 1;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        if (isScalar(pair.key) && pair.key.range) line = this.line(pair.key.range[0]);
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof key === "number") {
        const item = node.items[key] as Node | undefined;
        if (!item) break;
        if (item.range) line = this.line(item.range[0]);
        node = item;
      } else break;
    }
    return line;
  }

  private line(offset: number): number {
    return this.counter.linePos(offset).line;
  }
}

/** Words one zod issue from a section schema; `base` is where the section entry sits, `raw` its input. */
export function wordIssue(issue: z.core.$ZodIssue, base: readonly PathKey[], raw: unknown): { path: PathKey[]; message: string } {
  const rel = issue.path.map((k) => (typeof k === "symbol" ? String(k) : k));
  const path = [...base, ...rel];
  const params = (issue as { params?: IssueParams }).params;
  const parent = dotted(path.slice(0, -1)) || "the file";
  const last = String(path[path.length - 1]);
  if (params?.unknownKey) {
    return { path, message: `unknown key "${last}" in ${parent}.${didYouMean(last, params.candidates ?? [])}` };
  }
  if (issue.code === "invalid_key") {
    const inner = issue.issues[0]?.message ?? "is not a valid key";
    return { path, message: `${parent}: "${last}" ${inner}` };
  }
  if (params?.complete) return { path, message: `${dotted(path)} ${issue.message}` };
  const value = valueAt(raw, rel);
  if (value === undefined && rel.length > 0 && valueAt(raw, rel.slice(0, -1)) !== undefined) {
    return { path, message: `${dotted(path)} is required` };
  }
  return { path, message: `${dotted(path)} ${issue.message}, got ${describe(value)}` };
}

export function formatIssue(issue: PlaybookIssue): string {
  return issue.line > 0 ? `${issue.file}:${issue.line}: ${issue.message}` : `${issue.file}: ${issue.message}`;
}

/**
 * Loading playbooks: a directory of `*.yaml` files, merged. Every mistake in every file is
 * reported at once as `file:line: message`; nothing is half-loaded.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { CORE_SCHEMA, FAILSAFE_SCHEMA, load as loadYaml, mergeTag, YAMLException } from "js-yaml";
import { didYouMean } from "../lib/suggest.ts";
import { workingCopyPlaceProblem } from "../lib/working-copy-place.ts";
import { maskSecrets } from "./resolve.ts";
import type { Playbook, PlaybookIssue } from "./types.ts";
import { appSchema, type AppDraft } from "./schema/apps.ts";
import { balancerSchema } from "./schema/balancers.ts";
import { ID_PATTERN, ID_RULE } from "./schema/common.ts";
import { ingredientSchema } from "./schema/ingredients.ts";
import { describe, formatIssue, SourceLines, wordIssue, type PathKey } from "./schema/issues.ts";
import { checkReferences, type Declared, type Located, type WrittenEnvironment } from "./schema/references.ts";
import { squadSchema } from "./schema/squads.ts";
import { substitute } from "./schema/substitute.ts";
import { assemble } from "./schema/assemble.ts";
import { parseBeatSection } from "./schema/beat.ts";
import { prototypeKeys } from "./schema/proto-keys.ts";
import type { BeatSettings } from "./types.ts";

export { formatIssue } from "./schema/issues.ts";

/** Thrown by `loadPlaybooks`; `message` lists every issue, one `file:line: message` per line. */
export class PlaybookError extends Error {
  readonly issues: PlaybookIssue[];
  constructor(issues: PlaybookIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "PlaybookError";
    this.issues = issues;
  }
}

export type ParseResult = { ok: true; playbook: Playbook } | { ok: false; issues: PlaybookIssue[] };

const SECTIONS = {
  squads: { schema: squadSchema, kind: "squad" },
  balancers: { schema: balancerSchema, kind: "balancer" },
  ingredients: { schema: ingredientSchema, kind: "ingredient" },
  apps: { schema: appSchema, kind: "app" },
} as const;
type Section = keyof typeof SECTIONS;
const SECTION_NAMES = Object.keys(SECTIONS) as Section[];
/** Top-level keys: the named sections and `beat` (a fixed set of jobs, not named entries). */
const TOP_KEYS = [...SECTION_NAMES, "beat"];

/** YAML 1.2 core types plus merge keys (`<<: *defaults`), so environments can share a block. */
const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag);
/** Every scalar as the text written in the file: what an env value must reach the proc as. */
const TEXT_SCHEMA = FAILSAFE_SCHEMA.withTags(mergeTag);

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Validates and merges playbook files (pure but for resolving relative paths against the cwd).
 * `env` supplies `${ENV_VAR}` values.
 */
export function parsePlaybookFiles(files: { path: string; text: string }[], env: Record<string, string | undefined> = {}): ParseResult {
  const issues: (PlaybookIssue & { order: number })[] = [];
  const lines = new Map<string, SourceLines>();
  const lineOf = (file: string, p: readonly PathKey[]) => lines.get(file)?.lineOf(p) ?? 1;
  const report = (file: string, p: readonly PathKey[], message: string) =>
    issues.push({ file, line: lineOf(file, p), message, order: files.findIndex((f) => f.path === file) });

  const entries = { squads: [], balancers: [], ingredients: [], apps: [] } as { [S in Section]: Located<unknown>[] };
  const firstSeen = new Map<string, { file: string; path: PathKey[] }>();
  const declared: Declared = { squads: new Set(), balancers: new Set(), ingredients: new Set() };
  const secrets: string[] = [];
  const envs: WrittenEnvironment[] = [];
  const beat: Partial<BeatSettings> = {};

  for (const file of files) {
    const source = new SourceLines(file.text);
    if (source.empty) continue; // an empty file, or only comments
    if (source.aliasProblem) {
      // Before js-yaml reads it: every later walk over an alias bomb's values would hang.
      issues.push({ file: file.path, line: source.aliasProblem.line, message: source.aliasProblem.message, order: files.indexOf(file) });
      continue;
    }
    let data: unknown;
    try {
      data = loadYaml(file.text, { filename: file.path, schema: YAML_SCHEMA });
    } catch (e) {
      if (!(e instanceof YAMLException)) throw e;
      issues.push({ file: file.path, line: (e.mark?.line ?? 0) + 1, message: `YAML syntax error: ${e.reason}`, order: files.indexOf(file) });
      continue;
    }
    lines.set(file.path, source);
    for (const p of prototypeKeys(data)) report(file.path, p.path, p.message);
    for (const p of unquotedScalars(data, loadYaml(file.text, { filename: file.path, schema: TEXT_SCHEMA }))) report(file.path, p.path, p.message);
    const sub = substitute(data, env);
    for (const p of sub.problems) report(file.path, p.path, p.message);
    secrets.push(...sub.secrets);
    data = sub.value;

    if (data === null || data === undefined) continue;
    if (!isMapping(data)) {
      report(file.path, [], `a playbook file must be a mapping with ${TOP_KEYS.join(", ")}, got ${describe(data)}`);
      continue;
    }
    for (const [section, body] of Object.entries(data)) {
      if (section === "beat") {
        if (body === null) continue;
        if (!isMapping(body)) {
          report(file.path, [section], `beat must map job names to schedules, got ${describe(body)}`);
          continue;
        }
        const parsed = parseBeatSection(body);
        for (const i of parsed.issues) report(file.path, i.path, i.message);
        for (const [job, value] of Object.entries(parsed.settings)) {
          const key = `beat.${job}`;
          const earlier = firstSeen.get(key);
          if (earlier) report(file.path, ["beat", job], `beat job "${job}" is scheduled twice: here and at ${earlier.file}:${lineOf(earlier.file, earlier.path)}`);
          else {
            firstSeen.set(key, { file: file.path, path: ["beat", job] });
            Object.assign(beat, { [job]: value });
          }
        }
        continue;
      }
      if (!(section in SECTIONS)) {
        report(file.path, [section], `unknown key "${section}" at the top of the file.${didYouMean(section, TOP_KEYS)}`);
        continue;
      }
      const { schema, kind } = SECTIONS[section as Section];
      if (body === null) continue;
      if (!isMapping(body)) {
        report(file.path, [section], `${section} must map names to ${kind}s, got ${describe(body)}`);
        continue;
      }
      for (const [name, raw] of Object.entries(body)) {
        const at: PathKey[] = [section, name];
        if (section !== "apps") declared[section as keyof Declared].add(name);
        const key = `${section}.${name}`;
        const earlier = firstSeen.get(key);
        if (earlier) {
          report(file.path, at, `${kind} "${name}" is defined twice: here and at ${earlier.file}:${lineOf(earlier.file, earlier.path)}`);
          continue;
        }
        firstSeen.set(key, { file: file.path, path: at });
        if (!ID_PATTERN.test(name)) {
          report(file.path, at, `${section}: "${name}" is not a valid name (${ID_RULE})`);
          continue;
        }
        const parsed = schema.safeParse(raw);
        if (section === "apps") envs.push(...writtenEnvironments(name, file.path, raw));
        if (!parsed.success) {
          for (const issue of parsed.error.issues) {
            const worded = wordIssue(issue, at, raw);
            report(file.path, worded.path, worded.message);
          }
          continue;
        }
        entries[section as Section].push({ name, file: file.path, path: at, value: parsed.data });
      }
    }
  }

  // A working copy's place (lib/working-copy-place.ts), where the playbook names it.
  for (const { file, path: at, value } of entries.apps as Located<AppDraft>[]) {
    if (!value.working_copy) continue;
    const problem = workingCopyPlaceProblem(path.isAbsolute(value.repo) ? value.repo : path.resolve(path.dirname(file), value.repo));
    if (problem) report(file, [...at, "repo"], `working_copy: ${value.repo} ${problem}`);
  }

  for (const p of checkReferences(envs, declared)) {
    const other = p.other ? ` (${p.other.file}:${lineOf(p.other.file, p.other.path)})` : "";
    report(p.file, p.path, p.message + other);
  }

  if (issues.length > 0) {
    issues.sort((a, b) => a.order - b.order || a.line - b.line);
    // A wrong value may have come from the environment: never echo it back.
    const mask = (text: string) => maskSecrets({ secrets }, text);
    return { ok: false, issues: issues.map(({ order: _, ...issue }) => ({ ...issue, message: mask(issue.message) })) };
  }
  return { ok: true, playbook: assemble(entries, secrets, beat) };
}

/**
 * Env values are text for the proc. An unquoted scalar that YAML reads as a number or a boolean
 * reaches the proc as written only if its text survives the round trip (`PORT: 8080`,
 * `DEBUG: true`); `ZIP: 01234`, `APP_VERSION: 1.10`, `COLOR: 0x1F` or `ON: yes`-style surprises
 * would silently become `1234`, `1.1`, `31`: those are refused, asking for quotes.
 */
function unquotedScalars(data: unknown, text: unknown): { path: PathKey[]; message: string }[] {
  const out: { path: PathKey[]; message: string }[] = [];
  const check = (vars: unknown, written: unknown, at: PathKey[]) => {
    if (!isMapping(vars) || !isMapping(written)) return;
    for (const [key, value] of Object.entries(vars)) {
      const raw = written[key];
      if ((typeof value === "number" || typeof value === "boolean") && typeof raw === "string" && String(value) !== raw) {
        const as = typeof value === "number" ? `the number ${String(value)}` : `the boolean ${String(value)}`;
        out.push({ path: [...at, key], message: `${[...at, key].join(".")} is ${raw} without quotes, which YAML reads as ${as}: write "${raw}" (in quotes) to pass it to the procs as written` });
      }
    }
  };
  if (!isMapping(data) || !isMapping(text)) return out;
  const ingredients = data.ingredients;
  if (isMapping(ingredients) && isMapping(text.ingredients)) {
    for (const [name, ing] of Object.entries(ingredients)) {
      const written = text.ingredients[name];
      if (isMapping(ing) && isMapping(written)) check(ing.env, written.env, ["ingredients", name, "env"]);
    }
  }
  const apps = data.apps;
  if (isMapping(apps) && isMapping(text.apps)) {
    for (const [name, app] of Object.entries(apps)) {
      const writtenApp = text.apps[name];
      if (!isMapping(app) || !isMapping(writtenApp) || !isMapping(app.environments) || !isMapping(writtenApp.environments)) continue;
      for (const [envName, e] of Object.entries(app.environments)) {
        const written = writtenApp.environments[envName];
        if (isMapping(e) && isMapping(written)) check(e.env, written.env, ["apps", name, "environments", envName, "env"]);
      }
    }
  }
  return out;
}

/** Every environment an app writes, valid or not, for the cross-file checks. */
function writtenEnvironments(app: string, file: string, raw: unknown): WrittenEnvironment[] {
  const envs = isMapping(raw) ? raw.environments : undefined;
  if (!isMapping(envs)) return [];
  return Object.entries(envs)
    .filter((e): e is [string, Record<string, unknown>] => ID_PATTERN.test(e[0]) && isMapping(e[1]))
    .map(([name, env]) => ({ app, name, file, path: ["apps", app, "environments", name], raw: env }));
}

/**
 * The directories of a RAPTOR_PLAYBOOKS value: one, or several separated by `:` (as in PATH), e.g.
 * `playbooks/examples:playbooks/local`. Their files are merged as one directory's would be, so a
 * name defined in two of them is an error naming both places.
 */
export function playbookDirs(dirs: string): string[] {
  return dirs.split(path.delimiter).filter((d) => d !== "");
}

/** Reads every `*.yaml` / `*.yml` file of `dir` (not recursive; several directories with `:`) and validates them together. */
export async function loadPlaybooks(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Playbook> {
  const files: { path: string; text: string }[] = [];
  for (const d of playbookDirs(dir)) {
    let names: string[];
    try {
      names = (await readdir(d)).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch (e) {
      throw new PlaybookError([{ file: d, line: 0, message: `cannot read the playbook directory: ${(e as Error).message}` }]);
    }
    files.push(...(await Promise.all(names.map(async (n) => ({ path: path.join(d, n), text: await readFile(path.join(d, n), "utf8") })))));
  }
  if (files.length === 0) throw new PlaybookError([{ file: dir, line: 0, message: "has no *.yaml playbook files" }]);
  const result = parsePlaybookFiles(files, env);
  if (!result.ok) throw new PlaybookError(result.issues);
  return result.playbook;
}


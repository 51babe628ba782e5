import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseYamlSource, schemaProblems } from "../yaml-source.js";
import { z } from "zod";
import { type FieldDictionary, loadFieldDictionary } from "./fields.js";

/** An ATT&CK technique id, as entries and Falco tags write it: T1059 or T1021.004. */
export const TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;

const text = z.string().trim().min(1);

/**
 * Where a step's command runs. The renderer shows a step only where it applies to the alert:
 * - `host`: on the host, about a host process or file; shown only for alerts from the host itself;
 * - `node`: on the host or node, valid whatever the process ran in: host-wide views, or the process
 *   reached through `/proc/{{ns.pid}}/root/…`, `nsenter -t {{ns.pid}} …` or `/proc/{{proc.pid}}/…`;
 * - `pod`: `kubectl` about the alert's pod; shown only when the alert names one;
 * - `container`: on the node, reaching into the container through `{{ns.pid}}`; shown only for
 *   container alerts (the same command on a host process would act on the whole host);
 * - `docker` / `cri`: the container runtime's CLI on the container's host (Docker, or crictl for
 *   containerd and CRI-O); shown for container alerts of that runtime;
 * - `cluster`: `kubectl` against the cluster's API, not about one pod;
 * - `control-plane`: on a control-plane node (the API server's own files, such as its audit log).
 * Steps without `where` (cloud and SaaS CLIs) run from any workstation with the right credentials.
 */
export const STEP_PLACES = [
  "host",
  "node",
  "container",
  "pod",
  "docker",
  "cri",
  "cluster",
  "control-plane",
] as const;
export type StepPlace = (typeof STEP_PLACES)[number];

/** One step of investigation, containment or prevention. `{{field}}` placeholders take the alert's values. */
export const StepSchema = z.strictObject({
  title: text,
  where: z.enum(STEP_PLACES).optional(),
  command: text.optional(),
  detail: text.optional(),
  /** A config or manifest the step refers to (YAML), shown as a block. */
  snippet: text.optional(),
  /** What the step affects besides the suspect; required for containment and prevention. */
  blast_radius: text.optional(),
  /** The step preserves evidence; destructive steps must come after one. */
  capture: z.boolean().optional(),
});
export type Step = z.infer<typeof StepSchema>;

const StepRefSchema = z.strictObject({ use: text });

const FieldTestSchema = z
  .strictObject({
    field: text,
    equals: z.array(z.string()).optional(),
    starts_with: z.string().min(1).optional(),
  })
  .refine((p) => (p.equals === undefined) !== (p.starts_with === undefined), {
    error: "give exactly one of equals or starts_with",
  });
export type FieldTest = z.infer<typeof FieldTestSchema>;

/**
 * A benign explanation, offered when every test in `when` holds. The verdict reads as likely only
 * when at least one test is on a field the process cannot choose (see `ACTOR_CHOSEN_FIELDS`);
 * otherwise it is shown as possible.
 */
const BenignPatternSchema = z.strictObject({
  id: text,
  when: z.array(FieldTestSchema).min(1),
  label: text,
  explanation: text,
});
export type BenignPattern = z.infer<typeof BenignPatternSchema>;

export const KnowledgeEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be kebab-case"),
  /** Exact Falco rule names this entry explains. */
  rules: z.array(text).min(1),
  /** Former names of those rules (Falco renames rules between versions). */
  aliases: z.array(text).default([]),
  source: text,
  summary: text,
  why: text,
  mitre: z.array(z.string().regex(TECHNIQUE_ID, "must be an ATT&CK technique id such as T1059 or T1021.004")),
  benign_patterns: z.array(BenignPatternSchema).default([]),
  investigate: z.array(z.union([StepRefSchema, StepSchema])).min(1),
  contain: z.array(z.union([StepRefSchema, StepSchema])).default([]),
  prevent: z.array(z.union([StepRefSchema, StepSchema])).default([]),
  false_positives: z.array(text).default([]),
  tuning: z.strictObject({ description: text, snippet: text }).optional(),
  references: z.array(z.strictObject({ title: text, url: z.url({ protocol: /^https$/ }) })).default([]),
});
export type KnowledgeEntryInput = z.infer<typeof KnowledgeEntrySchema>;

/** An entry with its shared steps resolved. */
export interface KnowledgeEntry extends Omit<KnowledgeEntryInput, "investigate" | "contain" | "prevent"> {
  file: string;
  investigate: Step[];
  contain: Step[];
  prevent: Step[];
}

/** A shared step, or the same step for each place it can run (the message shows those that apply). */
const SharedStepsSchema = z.strictObject({
  steps: z.record(z.string(), z.union([StepSchema, z.array(StepSchema).min(2)])),
});

const MitreSchema = z.strictObject({
  techniques: z.record(
    z.string().regex(TECHNIQUE_ID),
    z.strictObject({ name: text, tactics: z.array(text).min(1) }),
  ),
  tactics: z.record(z.string().regex(/^TA\d{4}$/), text),
});
export type MitreCatalogue = z.infer<typeof MitreSchema>;

export interface KnowledgeBase {
  entries: KnowledgeEntry[];
  /** Rule name (and alias) → entry. */
  byRule: Map<string, KnowledgeEntry>;
  /** Shared steps by name (one or one per place), for guidance that belongs to no single entry. */
  shared: Record<string, Step[]>;
  mitre: MitreCatalogue;
  /** What each Falco output field means (knowledge-base/fields/). */
  fields: FieldDictionary;
}

export class KnowledgeBaseError extends Error {
  constructor(readonly problems: string[]) {
    super(`Knowledge base is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "KnowledgeBaseError";
  }
}

/** The knowledge-base folder shipped with the app (works from src/ under tsc output and from sources). */
export function defaultKnowledgeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "knowledge-base");
    try {
      if (statSync(candidate).isDirectory()) return candidate;
    } catch {
      // keep climbing
    }
    dir = dirname(dir);
  }
  throw new Error("knowledge-base/ folder not found next to the application");
}

function listYaml(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listYaml(path));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

/** Reads a YAML file; problems are reported with file, line and column. */
function readYaml(path: string, root: string): { value: unknown; where: (p: PropertyKey[]) => string } {
  const source = parseYamlSource(readFileSync(path, "utf8"), relative(root, path) || path);
  if (!source.ok) throw new KnowledgeBaseError([source.problem]);
  return source;
}

/**
 * Loads and validates every entry under `dir`: YAML files in `shared/` hold the shared steps, those
 * in `fields/` the field dictionary, `mitre-attack.yaml` the ATT&CK names, every other YAML file one
 * entry. Throws one error listing every problem.
 */
export function loadKnowledgeBase(dir = defaultKnowledgeDir()): KnowledgeBase {
  const root = resolve(dir);
  const problems: string[] = [];
  const sharedDir = join(root, "shared");
  const fieldsDir = join(root, "fields");
  const mitrePath = join(root, "mitre-attack.yaml");

  const shared: Record<string, Step[]> = {};
  const sharedFiles = listYaml(sharedDir);
  if (sharedFiles.length === 0)
    problems.push(`${relative(root, sharedDir) || sharedDir}: no shared steps file`);
  for (const path of sharedFiles) {
    const { value, where } = readYaml(path, root);
    const parsed = SharedStepsSchema.safeParse(value);
    if (!parsed.success) {
      problems.push(...schemaProblems(parsed.error, where));
      continue;
    }
    for (const [name, step] of Object.entries(parsed.data.steps)) {
      if (name in shared)
        problems.push(`${where(["steps", name])}: a shared step named "${name}" already exists`);
      else shared[name] = Array.isArray(step) ? step : [step];
    }
  }
  let mitre: MitreCatalogue = { techniques: {}, tactics: {} };
  {
    const { value, where } = readYaml(mitrePath, root);
    const parsed = MitreSchema.safeParse(value);
    if (parsed.success) mitre = parsed.data;
    else problems.push(...schemaProblems(parsed.error, where));
  }

  const entries: KnowledgeEntry[] = [];
  const byRule = new Map<string, KnowledgeEntry>();
  const ids = new Set<string>();
  for (const path of listYaml(root)) {
    if (path.startsWith(sharedDir + sep) || path.startsWith(fieldsDir + sep) || path === mitrePath) continue;
    const file = relative(root, path);
    let loaded: ReturnType<typeof readYaml>;
    try {
      loaded = readYaml(path, root);
    } catch (error) {
      if (error instanceof KnowledgeBaseError) problems.push(...error.problems);
      else throw error;
      continue;
    }
    const parsed = KnowledgeEntrySchema.safeParse(loaded.value);
    if (!parsed.success) {
      problems.push(...schemaProblems(parsed.error, loaded.where));
      continue;
    }
    const input = parsed.data;
    const resolveSteps = (section: "investigate" | "contain" | "prevent"): Step[] =>
      input[section].flatMap((step, i) => {
        if (!("use" in step)) return [step];
        const found = shared[step.use];
        if (!found) {
          problems.push(`${loaded.where([section, i, "use"])}: no shared step named "${step.use}"`);
          return [];
        }
        return found;
      });
    const entry: KnowledgeEntry = {
      ...input,
      file,
      investigate: resolveSteps("investigate"),
      contain: resolveSteps("contain"),
      prevent: resolveSteps("prevent"),
    };
    if (ids.has(entry.id)) problems.push(`${file}: id "${entry.id}" is used by another entry`);
    ids.add(entry.id);
    for (const technique of entry.mitre) {
      if (!mitre.techniques[technique]) problems.push(`${file}: ${technique} is not in mitre-attack.yaml`);
    }
    for (const name of [...entry.rules, ...entry.aliases]) {
      const other = byRule.get(name);
      if (other) problems.push(`${file}: rule "${name}" is already explained by ${other.file}`);
      else byRule.set(name, entry);
    }
    entries.push(entry);
  }
  const dictionary = loadFieldDictionary(fieldsDir, root);
  problems.push(...dictionary.problems);
  if (problems.length > 0) throw new KnowledgeBaseError(problems);
  return { entries, byRule, shared, mitre, fields: dictionary.fields };
}

/** The ATT&CK technique ids among a rule's tags. */
export function techniquesIn(tags: readonly string[]): string[] {
  return tags.filter((t) => TECHNIQUE_ID.test(t));
}

/**
 * The entry whose guidance a rule without its own entry borrows: the first that covers one of the
 * rule's ATT&CK techniques, with the technique they share. The bot (enrich) and `kb coverage` both
 * ask this, so they cannot disagree.
 */
export function relatedByTechnique(
  kb: Pick<KnowledgeBase, "entries">,
  tags: readonly string[],
): { entry: KnowledgeEntry; technique: string } | null {
  const techniques = techniquesIn(tags);
  for (const entry of kb.entries) {
    const technique = entry.mitre.find((t) => techniques.includes(t));
    if (technique) return { entry, technique };
  }
  return null;
}

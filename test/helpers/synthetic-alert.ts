import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FalcoAlert, FieldScalar, FieldValue } from "../../src/falco/alert.js";
import { normalisePriority } from "../../src/falco/priority.js";
import { SHARED_FALCO } from "./shared-corpus.js";

export interface CorpusRule {
  name: string;
  source: string;
  priority: string;
  tags: string[];
  output: string;
  /** Syscall corpus: output_field_names; plugin corpus: output_fields. */
  fields: string[];
  /** Fields the plugin renders as JSON arrays (plugin corpus: output_field_info[…].is_list). */
  listFields: string[];
  mitre: string[];
  /** false when upstream ships the rule disabled. */
  enabled: boolean;
}

/** A rule as both corpora write it; they differ only in the name of the field list. */
interface RawRule {
  name: string;
  source: string;
  priority: string;
  tags: string[];
  output: string;
  output_field_names?: string[];
  output_fields?: string[];
  output_field_info?: Record<string, { is_list?: boolean }>;
  mitre_techniques: string[];
  enabled?: boolean | null;
  /** Plugin corpus: whether the rule is on once the file is loaded. */
  enabled_effective?: boolean;
  /** Plugin corpus: "override" entries change a rule defined elsewhere. */
  entry_type?: string;
}

function readCorpus(file: string): RawRule[] {
  return (JSON.parse(readFileSync(join(SHARED_FALCO, file), "utf8")) as { rules: RawRule[] }).rules;
}

/** Every official rule of the shared corpora (override entries, which define no rule, left out). */
export function corpusRules(): CorpusRule[] {
  const all = [...readCorpus("rules-corpus.json"), ...readCorpus("plugin-rules-corpus.json")];
  return all
    .filter((r) => r.entry_type !== "override")
    .map((r) => ({
      name: r.name,
      source: r.source,
      priority: r.priority,
      tags: r.tags,
      output: r.output,
      fields: r.output_field_names ?? r.output_fields ?? [],
      listFields: Object.entries(r.output_field_info ?? {})
        .filter(([, info]) => info.is_list === true)
        .map(([name]) => name),
      mitre: r.mitre_techniques,
      enabled: (r.enabled_effective ?? r.enabled) !== false,
    }));
}

/** Fields Falco appends to every syscall alert (container plugin, suggested output). */
export const APPENDED_SYSCALL_FIELDS = [
  "container.id",
  "container.name",
  "container.image.repository",
  "container.image.tag",
  "k8s.pod.name",
  "k8s.ns.name",
];

const REALISTIC: Record<string, FieldScalar> = {
  "container.id": "3c2b1a0f9e8d",
  "container.name": "payments-api",
  "container.image.repository": "registry.example.com/shop/payments",
  "container.image.tag": "2.4.1",
  "k8s.pod.name": "payments-api-7c9d8f6b5-q2w3e",
  "k8s.ns.name": "payments",
  "proc.name": "bash",
  "proc.exepath": "/usr/bin/bash",
  "proc.pname": "node",
  "proc.cmdline": "bash -c id; cat /etc/shadow",
  "proc.pid": 48213,
  "proc.ppid": 48190,
  "proc.tty": 34816,
  "proc.cwd": "/srv/app",
  "user.name": "root",
  "user.uid": 0,
  "user.loginuid": -1,
  "evt.type": "execve",
  "evt.time": 1732266723112233445n,
  "fd.name": "/etc/shadow",
  "ka.user.name": "system:serviceaccount:ci:deployer",
  "ka.target.namespace": "payments",
  "ka.target.name": "payments-api",
  "ka.target.resource": "pods",
  "ka.verb": "create",
  "ka.response.code": "201",
};

/** A value that looks like what Falco sends for this field. */
export function realisticValue(field: string): FieldScalar {
  if (field in REALISTIC) return REALISTIC[field]!;
  if (/(pid|uid|gid|port|tty|count|size)\b|\.(lport|rport|sport|dport)$/.test(field)) return 4242;
  if (field.endsWith(".ip") || /\.(rip|lip|sip|cip)$/.test(field)) return "203.0.113.7";
  return `${field.replace(/[^a-z0-9]+/gi, "-")}-value`;
}

/** An alert as Falco would send it for this rule, every field filled with `value(field)`. */
export function syntheticAlert(
  rule: CorpusRule,
  value: (field: string) => FieldScalar = realisticValue,
): FalcoAlert {
  const fields = rule.source === "syscall" ? [...rule.fields, ...APPENDED_SYSCALL_FIELDS] : rule.fields;
  const outputFields: Record<string, FieldValue> = {};
  for (const f of fields) outputFields[f] = rule.listFields.includes(f) ? [value(f), value(f)] : value(f);
  return {
    uuid: "9b2f6c1e-3d4a-4b5c-8d6e-7f8091a2b3c4",
    uuidGenerated: false,
    rule: rule.name,
    priority: normalisePriority(rule.priority) ?? "Warning",
    source: rule.source,
    hostname: "worker-node-3",
    time: "2024-11-22T09:12:03.112233445Z",
    timeDerivedFrom: "alert",
    output: `09:12:03.112233445: ${rule.priority} ${rule.output}`,
    outputFields,
    tags: rule.tags,
    repairs: [],
  };
}

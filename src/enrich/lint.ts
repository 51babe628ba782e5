import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { KnowledgeBase, KnowledgeEntry, Step } from "./knowledge.js";
import { PLACEHOLDER } from "./placeholders.js";

/**
 * Programs an entry may tell people to run. A command whose program is not here is rejected, which
 * catches invented CLIs (`seccomp --first-accept-filter`, `ossec config set`). Extend it only with
 * tools you have checked exist and behave as the entry says.
 */
export const KNOWN_PROGRAMS = new Set([
  "kubectl",
  "docker",
  "crictl",
  "podman",
  "find",
  "ps",
  "ls",
  "cat",
  "stat",
  "readlink",
  "sha256sum",
  "cp",
  "grep",
  "journalctl",
  "ss",
  "lsof",
  "getent",
  "id",
  "last",
  "ausearch",
  "aws",
  "gcloud",
  "gh",
  "falco",
]);

interface Banned {
  pattern: RegExp;
  why: string;
}

/** Advice that weakens the host or runs untrusted code. Checked on every command and snippet. */
export const BANNED: Banned[] = [
  { pattern: /\bsetenforce\s+(0|permissive)\b/i, why: "turns SELinux enforcement off" },
  { pattern: /\bSELINUX\s*=\s*(disabled|permissive)\b/i, why: "turns SELinux off" },
  { pattern: /\bchmod\b.*(\b0?777\b|\ba\+rwx\b|\bugo\+rwx\b|\bo\+w\b)/i, why: "makes files world-writable" },
  { pattern: /\b(aa-teardown|aa-disable|aa-complain)\b/i, why: "disables AppArmor" },
  {
    pattern:
      /\b(systemctl|service)\b.*\b(stop|disable|mask)\b.*\b(apparmor|auditd|firewalld|ufw|nftables|iptables|falco)\b/i,
    why: "stops a security service",
  },
  {
    pattern: /\b(service)\s+(apparmor|auditd|firewalld|ufw|falco)\s+stop\b/i,
    why: "stops a security service",
  },
  { pattern: /\bufw\s+disable\b/i, why: "disables the firewall" },
  { pattern: /\bauditctl\s+(-e\s*0|-D)\b/i, why: "disables or clears audit rules" },
  { pattern: /\biptables\b.*\s(-F|--flush|-X|--delete-chain)\b/i, why: "flushes the firewall" },
  { pattern: /\biptables\b.*\s-P\s+\w+\s+ACCEPT\b/i, why: "opens the firewall's default policy" },
  { pattern: /\bnft\s+flush\b/i, why: "flushes the firewall" },
  { pattern: /--privileged\b|\bprivileged:\s*true\b/i, why: "grants full host privileges to a container" },
  { pattern: /\ballowPrivilegeEscalation:\s*true\b/i, why: "allows privilege escalation" },
  {
    pattern: /\b(apparmor|seccomp)[=:]\s*"?unconfined\b|\bUnconfined\b/i,
    why: "removes a confinement profile",
  },
  { pattern: /\b(curl|wget)\b[^\n]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b/i, why: "pipes a download into a shell" },
  { pattern: /\b(ba|z|da|k)?sh\s+<\(\s*(curl|wget)\b/i, why: "runs a downloaded script" },
  {
    pattern: /\b(curl|wget)\b/i,
    why: "downloads from the network; knowledge-base commands must work offline",
  },
  { pattern: /\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+\/(\s|$)/, why: "deletes the root filesystem" },
];

/** Commands that destroy evidence or disrupt service: only after a capture step, never to investigate. */
const DESTRUCTIVE = [
  /\bkubectl\b.*\s(delete|drain)\b/i,
  /\b(docker|crictl|podman)\s+(rm|rmi|kill|stop)\b/i,
  /^\s*(kill|pkill|killall|rm|shred)\b/i,
];

/** Anything that changes state: not allowed among investigation steps, which must be read-only. */
const MUTATING = [
  ...DESTRUCTIVE,
  /\bkubectl\b.*\s(apply|label|annotate|patch|edit|scale|cordon|uncordon|taint|create|replace|set|exec|cp|rollout)\b/i,
  /\b(docker|crictl|podman)\s+(exec|run|start|restart|pause|update|cp)\b/i,
  /^\s*(cp|mv|chmod|chown|tee)\b/i,
  /\s>>?\s*[^&]/,
];

/**
 * Checks that a command is one simple shell command: quotes balanced; no `;`, `&&`, `||`, pipes,
 * background `&`, command substitution or newlines. A single output redirection is allowed.
 */
export function shellProblems(command: string): string[] {
  const problems: string[] = [];
  const text = command.replace(PLACEHOLDER, "VALUE");
  if (/[\r\n]/.test(text)) problems.push("spans several lines; give one command per step");
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      continue;
    }
    if (ch === "\\") {
      i++;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "`" || (ch === "$" && text[i + 1] === "(")) problems.push("uses command substitution");
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ";") problems.push("chains commands with ';'");
    else if (ch === "&" && text[i + 1] === "&") {
      problems.push("chains commands with '&&'");
      i++;
    } else if (ch === "|" && text[i + 1] === "|") {
      problems.push("chains commands with '||'");
      i++;
    } else if (ch === "|") problems.push("is a pipeline; give one command per step");
    else if (ch === "&" && text[i - 1] !== ">" && text[i + 1] !== ">")
      problems.push("runs in the background with '&'");
    else if (ch === "`" || (ch === "$" && text[i + 1] === "(")) problems.push("uses command substitution");
  }
  if (quote) problems.push(`has an unclosed ${quote === "'" ? "single" : "double"} quote`);
  return [...new Set(problems)];
}

export function programOf(command: string): string {
  const first = command.trim().split(/\s+/)[0] ?? "";
  return first === "sudo" ? (command.trim().split(/\s+/)[1] ?? "") : first;
}

/** Problems with one command, whatever section it is in. */
export function commandProblems(command: string): string[] {
  const problems = shellProblems(command);
  const program = programOf(command);
  if (!KNOWN_PROGRAMS.has(program)) problems.push(`runs "${program}", which is not a known, checked tool`);
  for (const banned of BANNED) if (banned.pattern.test(command)) problems.push(banned.why);
  return problems;
}

export function textProblems(snippet: string): string[] {
  return BANNED.filter((b) => b.pattern.test(snippet) && !/downloads from the network/.test(b.why)).map(
    (b) => b.why,
  );
}

const ExceptionSchema = z.strictObject({
  name: z.string().min(1),
  fields: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]),
  comps: z.union([z.array(z.string()), z.string()]).optional(),
  values: z.array(z.unknown()).min(1),
});
const RuleTuningSchema = z.array(
  z.strictObject({
    rule: z.string().min(1),
    exceptions: z.array(ExceptionSchema).optional(),
    condition: z.string().optional(),
    enabled: z.boolean().optional(),
    override: z
      .partialRecord(
        z.enum(["exceptions", "condition", "output", "priority", "enabled", "desc", "tags"]),
        z.enum(["append", "replace"]),
      )
      .optional(),
  }),
);

/**
 * A tuning snippet must be YAML that Falco accepts for changing an existing rule: the `override:` key
 * (Falco ≥ 0.36) or a bare `enabled:`; the deprecated `append: true` is refused.
 */
export function tuningProblems(snippet: string, ruleNames: string[]): string[] {
  let doc: unknown;
  try {
    doc = parseYaml(snippet.replace(PLACEHOLDER, '"VALUE"'));
  } catch (error) {
    return [`is not valid YAML: ${(error as Error).message.split("\n")[0]}`];
  }
  const parsed = RuleTuningSchema.safeParse(doc);
  if (!parsed.success)
    return parsed.error.issues.map((i) => `is not a Falco rule override: ${i.path.join(".")} ${i.message}`);
  const problems: string[] = [];
  for (const item of parsed.data) {
    if (!ruleNames.includes(item.rule))
      problems.push(`changes rule "${item.rule}", which this entry does not explain`);
    if (item.exceptions && item.override?.exceptions !== "append" && item.override?.exceptions !== "replace")
      problems.push(
        "adds exceptions without `override: {exceptions: append}`, so Falco would treat it as a new rule",
      );
    for (const exception of item.exceptions ?? []) {
      const width = Array.isArray(exception.fields) ? exception.fields.length : 1;
      for (const value of exception.values) {
        if (Array.isArray(exception.fields) && (!Array.isArray(value) || value.length !== width))
          problems.push(`exception "${exception.name}" has a value that is not a list of ${width}`);
      }
    }
  }
  return problems;
}

/** The command with quoted text blanked out, so `'a -> b'` is not read as a redirection. */
function unquoted(command: string): string {
  return command.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, "''");
}

function stepProblems(
  step: Step,
  section: "investigate" | "contain" | "prevent",
  capturedBefore: boolean,
): string[] {
  const problems: string[] = [];
  if (step.command) {
    problems.push(...commandProblems(step.command));
    if (section === "investigate" && MUTATING.some((p) => p.test(unquoted(step.command!))))
      problems.push("changes state, but investigation steps must be read-only");
    if (section === "contain" && DESTRUCTIVE.some((p) => p.test(unquoted(step.command!))) && !capturedBefore)
      problems.push("destroys evidence before any capture step");
  }
  if (step.snippet) problems.push(...textProblems(step.snippet));
  if ((section === "contain" || section === "prevent") && !step.blast_radius)
    problems.push("states no blast_radius");
  return problems;
}

/** Every problem in one entry, each prefixed with where it is. */
export function lintEntry(entry: KnowledgeEntry): string[] {
  const problems: string[] = [];
  for (const section of ["investigate", "contain", "prevent"] as const) {
    let captured = false;
    entry[section].forEach((step, i) => {
      for (const p of stepProblems(step, section, captured))
        problems.push(`${entry.file}: ${section}[${i}] "${step.title}" ${p}`);
      if (step.capture) captured = true;
    });
  }
  if (entry.tuning) {
    for (const p of [
      ...textProblems(entry.tuning.snippet),
      ...tuningProblems(entry.tuning.snippet, [...entry.rules, ...entry.aliases]),
    ])
      problems.push(`${entry.file}: tuning snippet ${p}`);
  }
  return problems;
}

export function lintKnowledgeBase(kb: KnowledgeBase): string[] {
  return kb.entries.flatMap(lintEntry);
}

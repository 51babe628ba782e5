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
  // containers and Kubernetes
  "kubectl",
  "docker",
  "crictl",
  "podman",
  "nerdctl",
  "ctr",
  // files and processes (read)
  "ls",
  "cat",
  "stat",
  "readlink",
  "file",
  "sha256sum",
  "find",
  "grep",
  "head",
  "tail",
  "getfacl",
  "lsattr",
  "getcap",
  "ps",
  "pstree",
  "pgrep",
  "lsof",
  "findmnt",
  "lsblk",
  "lsns",
  "lsmod",
  "modinfo",
  "bpftool",
  // network (read)
  "ss",
  "ip",
  "iptables",
  "ip6tables",
  "nft",
  "tcpdump",
  // users and logs (read)
  "getent",
  "id",
  "last",
  "lastlog",
  "who",
  "journalctl",
  "ausearch",
  "aureport",
  "auditctl",
  "crontab",
  "systemctl",
  "rpm",
  "dpkg",
  "debsums",
  "npm",
  // evidence and containment
  "cp",
  "kill",
  "pkill",
  "passwd",
  "usermod",
  "chmod",
  "rmmod",
  // cloud and SaaS
  "aws",
  "gcloud",
  "gsutil",
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
  { pattern: /\bjournalctl\b.*--(vacuum|rotate|flush)/i, why: "deletes or rotates away logs (evidence)" },
  { pattern: /\bhistory\s+-c\b|\bshred\b|\btruncate\b/i, why: "destroys evidence" },
  {
    pattern: /\bfind\b.*\s(-delete|-exec|-execdir|-ok)\b/i,
    why: "deletes or runs programs on what it finds; give a plain find",
  },
  { pattern: /\bcrontab\s+-r\b/i, why: "deletes a crontab (evidence)" },
  {
    pattern: /\bchmod\b.*\s[0-7]*[2367](\s|$)|\bchmod\b.*\s(a|o|ugo)?\+[rx]*w/i,
    why: "makes files world-writable",
  },
  {
    pattern: /\bsetenforce\b|\bsysctl\b/i,
    why: "changes kernel security settings; describe the change instead of giving a command",
  },
];

/** docker, podman and nerdctl share their verbs (`docker container rm` is read as `rm`). */
const CONTAINER_CLI_MUTATING = [
  "rm",
  "rmi",
  "kill",
  "stop",
  "restart",
  "pause",
  "unpause",
  "start",
  "exec",
  "run",
  "cp",
  "update",
  "commit",
  "prune",
];
const IPTABLES_MUTATING = ["-A", "-I", "-D", "-R", "-F", "-X", "-P", "-N", "-Z"];

/** Subcommands that change state, per multi-command tool; everything else they do is read-only. */
const MUTATING_SUBCOMMANDS: Record<string, Set<string>> = {
  kubectl: new Set([
    "apply",
    "create",
    "delete",
    "edit",
    "patch",
    "replace",
    "label",
    "annotate",
    "scale",
    "autoscale",
    "cordon",
    "uncordon",
    "drain",
    "taint",
    "set",
    "exec",
    "cp",
    "rollout",
    "debug",
    "run",
    "expose",
    "attach",
    "port-forward",
    "certificate",
  ]),
  docker: new Set(CONTAINER_CLI_MUTATING),
  podman: new Set(CONTAINER_CLI_MUTATING),
  nerdctl: new Set(CONTAINER_CLI_MUTATING),
  crictl: new Set(["rm", "rmp", "rmi", "stop", "stopp", "exec", "run", "runp", "create", "start", "update"]),
  ctr: new Set(["tasks", "containers", "images", "snapshots", "run"]),
  systemctl: new Set([
    "stop",
    "start",
    "restart",
    "reload",
    "disable",
    "enable",
    "mask",
    "unmask",
    "kill",
    "daemon-reload",
    "isolate",
  ]),
  iptables: new Set(IPTABLES_MUTATING),
  ip6tables: new Set(IPTABLES_MUTATING),
  nft: new Set(["add", "delete", "flush", "insert", "replace", "create", "destroy"]),
  ip: new Set(["set", "add", "del", "delete", "flush", "change", "replace"]),
  auditctl: new Set(["-a", "-A", "-d", "-D", "-w", "-W", "-e", "-f", "-b", "-r"]),
  crontab: new Set(["-r", "-e", "-i"]),
  npm: new Set(["install", "i", "ci", "uninstall", "update", "exec", "run", "publish", "rebuild"]),
  aws: new Set([
    "delete",
    "put",
    "create",
    "update",
    "attach",
    "detach",
    "remove",
    "disable",
    "deactivate",
    "stop",
    "terminate",
    "revoke",
    "modify",
    "tag",
    "untag",
    "set",
    "restore",
  ]),
  gcloud: new Set([
    "delete",
    "create",
    "update",
    "add-iam-policy-binding",
    "remove-iam-policy-binding",
    "set-iam-policy",
    "disable",
    "enable",
    "stop",
    "reset",
    "patch",
    "revoke",
  ]),
  gsutil: new Set(["rm", "cp", "mv", "iam", "acl", "setmeta", "rb", "mb"]),
  gh: new Set([
    "delete",
    "create",
    "edit",
    "archive",
    "rename",
    "transfer",
    "close",
    "merge",
    "secret",
    "variable",
    "repo",
    "ruleset",
  ]),
};

/** Programs that always change something (evidence, processes, accounts, modules). */
const MUTATING_PROGRAMS = new Set(["cp", "kill", "pkill", "passwd", "usermod", "chmod", "rmmod"]);

/** Destroys or stops something: allowed only in containment, and only after a capture step. */
const DESTRUCTIVE_WORDS = /^(delete|rm|rmi|rmp|kill|pkill|stop|stopp|drain|rmmod|terminate)$/;

/** Shell words of a command, quotes removed (the command has passed `shellProblems`). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g))
    words.push(m[1] ?? m[2] ?? m[3] ?? "");
  return words;
}

/** Flags that take a value, so that the word after them is not mistaken for a subcommand. */
const VALUE_FLAGS = new Set([
  "-n",
  "--namespace",
  "--context",
  "--kubeconfig",
  "--cluster",
  "--user",
  "-H",
  "--host",
  "--runtime-endpoint",
  "-r",
  "--region",
  "--profile",
  "--project",
  "--output",
  "-o",
  "--repo",
  "-R",
]);

/** The words of a command that name what it does: `kubectl -n x get pods` → [get, pods]. */
function actionWords(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (VALUE_FLAGS.has(w)) {
      i++;
      continue;
    }
    if (
      w.startsWith("-") &&
      !/^-[A-Z]$/.test(w) &&
      !["-r", "-e", "-i", "-a", "-A", "-d", "-D", "-w", "-W", "-f", "-b"].includes(w)
    )
      continue;
    out.push(w);
  }
  return out;
}

/** Second-level subcommands that change state (`kubectl rollout restart`, `docker container rm`). */
const NESTED: Record<string, Record<string, Set<string>>> = {
  kubectl: {
    auth: new Set(["reconcile"]),
    rollout: new Set(["restart", "undo", "pause", "resume"]),
    certificate: new Set(["approve", "deny"]),
  },
};
const DOCKER_GROUPS = new Set(["network", "volume", "container", "image", "system", "builder", "plugin"]);

/** The words that decide what a command does: its subcommand, or its nested subcommand. */
function decidingWords(program: string, actions: string[]): string[] {
  const [first, second] = actions;
  if (first === undefined) return [];
  if (["docker", "podman", "nerdctl"].includes(program) && DOCKER_GROUPS.has(first))
    return second ? [second] : [];
  const nested = NESTED[program]?.[first];
  if (nested) return second && nested.has(second) ? [first] : [];
  if (program === "ip") return actions;
  return [first];
}

export type CommandEffect = "read" | "change" | "destroy";

/** Whether a command only reads, changes state, or destroys something. */
export function commandEffect(command: string): CommandEffect {
  const words = shellWords(command.replace(PLACEHOLDER, "VALUE"));
  const program = programOf(command);
  const actions = actionWords(words);
  if (words.includes(">") || words.includes(">>") || /(^|\s)>>?\S/.test(command)) return "change";
  if (MUTATING_PROGRAMS.has(program))
    return program === "cp" || program === "chmod" || program === "passwd" || program === "usermod"
      ? "change"
      : "destroy";
  const mutating = MUTATING_SUBCOMMANDS[program];
  if (program === "iptables" || program === "ip6tables" || program === "auditctl" || program === "crontab") {
    return words.some((w) => mutating?.has(w)) ? "change" : "read";
  }
  if (program === "aws" || program === "gcloud") {
    // aws iam delete-access-key …, gcloud iam service-accounts keys delete …
    return actions.some((a) => [...(mutating ?? [])].some((m) => a === m || a.startsWith(`${m}-`)))
      ? actions.some((a) => /^(delete|terminate|stop|remove)/.test(a))
        ? "destroy"
        : "change"
      : "read";
  }
  const deciding = decidingWords(program, actions);
  if (mutating && deciding.some((a) => mutating.has(a))) {
    return deciding.some((a) => DESTRUCTIVE_WORDS.test(a)) ? "destroy" : "change";
  }
  if (program === "find" && words.some((w) => ["-delete", "-exec", "-execdir", "-ok", "-fprint"].includes(w)))
    return "destroy";
  return "read";
}

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
  return [...new Set(problems)];
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

function stepProblems(
  step: Step,
  section: "investigate" | "contain" | "prevent",
  capturedBefore: boolean,
): string[] {
  const problems: string[] = [];
  if (step.command) {
    const own = commandProblems(step.command);
    problems.push(...own);
    if (own.length === 0) {
      const effect = commandEffect(step.command);
      if (section === "investigate" && effect !== "read")
        problems.push("changes state, but investigation steps must be read-only");
      if (section === "contain" && effect === "destroy" && !capturedBefore)
        problems.push("destroys evidence before any capture step");
    }
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

/** Field dictionary texts are prose, but a reading must not slip in advice the lint refuses. */
function lintFieldDictionary(kb: KnowledgeBase): string[] {
  return [...kb.fields].flatMap(([name, entry]) =>
    [entry.meaning, ...entry.readings.map((r) => r.reading)].flatMap((t) =>
      textProblems(t).map((p) => `fields: ${name}: ${p}`),
    ),
  );
}

export function lintKnowledgeBase(kb: KnowledgeBase): string[] {
  return [...kb.entries.flatMap(lintEntry), ...lintFieldDictionary(kb)];
}

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
  "curl",
  "falco",
]);

interface Banned {
  pattern: RegExp;
  why: string;
}

/** Downloads are refused, except the read-only API queries `apiReadProblems` accepts. */
const DOWNLOAD_BAN: Banned = {
  pattern: /\b(curl|wget)\b/i,
  why: "downloads from the network; knowledge-base commands must work offline",
};

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
  DOWNLOAD_BAN,
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

/** aws <service> <operation>: operations are named verb-first (`list-access-keys`, `put-bucket-policy`). */
const AWS_READ = /^(get|list|describe|lookup|head|search|simulate|filter|ls|batch-get|view)(-|$)/;
const AWS_DESTROY = /^(delete|terminate|stop|remove|rm|rb|deregister)(-|$)/;
/** gcloud <group …> <verb> [positional …]: the verb decides. Unknown verbs count as changes. */
const GCLOUD_READ = new Set([
  "list",
  "describe",
  "read",
  "get-iam-policy",
  "get-ancestors-iam-policy",
  "search-all-resources",
  "search-all-iam-policies",
  "analyze-iam-policy",
  "list-grantable-roles",
  "list-testable-permissions",
  "get-value",
  "ls",
  "du",
  "cat",
]);
const GCLOUD_CHANGE =
  /^(create|update|delete|undelete|add|remove|set|unset|disable|enable|stop|start|reset|patch|revoke|restore|import|export|deploy|resize|move|rollback|suspend|resume|cancel|run|publish|rotate|destroy|cp|mv|rm|rsync|ssh|scp|sign-blob|sign-jwt|clone|promote|failover|detach|attach)(-|$)/;
const GCLOUD_DESTROY = /^(delete|stop|destroy|rm|suspend)$/;
/** gsutil: commands that only read; `iam`, `acl` and the like read only with `get`. */
const GSUTIL_READ = new Set(["ls", "stat", "du", "cat", "hash", "version"]);
/** gh <group> <verb>: only these verbs read; `gh api` is decided by its method. */
const GH_READ = new Set(["list", "view", "status", "diff", "checks", "search", "ls"]);

/** What a cloud or SaaS CLI command does, or null when `program` is not one of them. */
function cloudEffect(
  program: string,
  command: string,
  words: string[],
  actions: string[],
): CommandEffect | null {
  if (program === "aws") {
    const operation = actions[1] ?? "";
    if (AWS_READ.test(operation)) return "read";
    return AWS_DESTROY.test(operation) ? "destroy" : "change";
  }
  if (program === "gcloud") {
    for (const word of actions) {
      if (GCLOUD_READ.has(word)) return "read";
      if (GCLOUD_CHANGE.test(word)) return GCLOUD_DESTROY.test(word) ? "destroy" : "change";
    }
    return "change";
  }
  if (program === "gsutil") {
    const [first, second] = actions;
    if (first && GSUTIL_READ.has(first)) return "read";
    if (second === "get") return "read";
    return first === "rm" || first === "rb" ? "destroy" : "change";
  }
  if (program === "gh") {
    const [group, verb] = actions;
    if (group === "api") {
      // `gh api` sends a POST as soon as it has fields, unless the method is given as GET.
      const method = words.flatMap((w, i) =>
        w === "-X" || w === "--method" ? [words[i + 1] ?? ""] : w.startsWith("--method=") ? [w.slice(9)] : [],
      );
      if (method.length > 0) {
        if (method.every((m) => m.toUpperCase() === "GET")) return "read";
        // A DELETE removes something (a key, a collaborator and their forks): evidence goes with it.
        return method.some((m) => m.toUpperCase() === "DELETE") ? "destroy" : "change";
      }
      const fields = words.some((w) => /^(-f|-F|--field|--raw-field|--input)(=|$)/.test(w));
      return fields ? "change" : "read";
    }
    if (group === "search" || (verb !== undefined && GH_READ.has(verb))) return "read";
    return verb === "delete" ? "destroy" : "change";
  }
  if (program === "curl") return apiReadProblems(command).length === 0 ? "read" : "change";
  return null;
}

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
  const cloud = cloudEffect(program, command, words, actions);
  if (cloud) return cloud;
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

/**
 * Okta and GitHub audit logs are read over their REST APIs. `curl` is accepted for exactly that: a
 * GET (`--get`, query parameters only) to the Okta org named by `$OKTA_ORG_URL` or to
 * api.github.com, writing nothing to disk. Anything else curl could do (POST, uploads, downloads to
 * files, other hosts) is refused.
 */
export function apiReadProblems(command: string): string[] {
  const words = shellWords(command.replace(PLACEHOLDER, "VALUE"));
  const problems: string[] = [];
  if (!words.includes("--get") && !words.includes("-G"))
    problems.push("curl must send a read-only query (`--get`)");
  for (const w of words) {
    if (/^(-X|--request)$/.test(w) || w.startsWith("--request=") || /^-X./.test(w))
      problems.push("curl must not choose a request method: `--get` makes it a GET");
    if (/^(-d|--data|--data-binary|--data-raw|--data-ascii|--json|-F|--form|-T|--upload-file)$/.test(w))
      problems.push("curl may only send query parameters (`--data-urlencode` with `--get`)");
    if (/^(-o|-O|--output|--remote-name|--remote-name-all|-K|--config)$/.test(w))
      problems.push("curl must print to the terminal, not write or read files");
  }
  const urls = words.filter((w) => /^(https?:|\$)/.test(w));
  if (urls.length !== 1) problems.push("curl must name exactly one URL");
  else if (!API_READ_BASES.some((base) => urls[0]!.startsWith(base)))
    problems.push(`curl may only query ${API_READ_BASES.join(" or ")}`);
  return [...new Set(problems)];
}
const API_READ_BASES = ["$OKTA_ORG_URL/api/v1/", "https://api.github.com/"];

/** Problems with one command, whatever section it is in. */
export function commandProblems(command: string): string[] {
  const problems = shellProblems(command);
  const program = programOf(command);
  if (!KNOWN_PROGRAMS.has(program)) problems.push(`runs "${program}", which is not a known, checked tool`);
  const apiRead = program === "curl" && apiReadProblems(command).length === 0;
  if (program === "curl" && !apiRead) problems.push(...apiReadProblems(command));
  for (const banned of BANNED)
    if (banned.pattern.test(command) && !(apiRead && banned === DOWNLOAD_BAN)) problems.push(banned.why);
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

import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { FREE_TEXT_FIELDS } from "./actor-fields.js";
import type { KnowledgeBase, KnowledgeEntry, Step } from "./knowledge.js";
import { NAMESPACE_PID, PLACEHOLDER, quoteStateAt, tuningPlaceholderContext } from "./placeholders.js";

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
  "nsenter",
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
  /** A stable name, so that a test can hold each entry to a sample it must refuse. */
  id: string;
  pattern: RegExp;
  why: string;
}

/** Downloads are refused, except the read-only API queries `apiReadProblems` accepts. */
const DOWNLOAD_BAN: Banned = {
  id: "download",
  pattern: /\b(curl|wget)\b/i,
  why: "downloads from the network; knowledge-base commands must work offline",
};

/** Advice that weakens the host or runs untrusted code. Checked on every command and snippet. */
export const BANNED: Banned[] = [
  { id: "setenforce-off", pattern: /\bsetenforce\s+(0|permissive)\b/i, why: "turns SELinux enforcement off" },
  { id: "selinux-config-off", pattern: /\bSELINUX\s*=\s*(disabled|permissive)\b/i, why: "turns SELinux off" },
  {
    id: "chmod-world-writable",
    pattern: /\bchmod\b.*(\b0?777\b|\ba\+rwx\b|\bugo\+rwx\b|\bo\+w\b)/i,
    why: "makes files world-writable",
  },
  { id: "apparmor-off", pattern: /\b(aa-teardown|aa-disable|aa-complain)\b/i, why: "disables AppArmor" },
  {
    id: "systemctl-stop-security",
    pattern:
      /\b(systemctl|service)\b.*\b(stop|disable|mask)\b.*\b(apparmor|auditd|firewalld|ufw|nftables|iptables|falco)\b/i,
    why: "stops a security service",
  },
  {
    id: "service-stop-security",
    pattern: /\b(service)\s+(apparmor|auditd|firewalld|ufw|falco)\s+stop\b/i,
    why: "stops a security service",
  },
  { id: "ufw-disable", pattern: /\bufw\s+disable\b/i, why: "disables the firewall" },
  {
    id: "killall",
    pattern: /\bkillall\b/i,
    why: "stops processes by name, which also hits others that share (or fake) it; stop by PID",
  },
  { id: "auditctl-off", pattern: /\bauditctl\s+(-e\s*0|-D)\b/i, why: "disables or clears audit rules" },
  {
    id: "iptables-flush",
    pattern: /\biptables\b.*\s(-F|--flush|-X|--delete-chain)\b/i,
    why: "flushes the firewall",
  },
  {
    id: "iptables-accept-policy",
    pattern: /\biptables\b.*\s-P\s+\w+\s+ACCEPT\b/i,
    why: "opens the firewall's default policy",
  },
  { id: "nft-flush", pattern: /\bnft\s+flush\b/i, why: "flushes the firewall" },
  {
    id: "privileged",
    pattern: /--privileged\b|\bprivileged:\s*true\b/i,
    why: "grants full host privileges to a container",
  },
  {
    id: "privilege-escalation",
    pattern: /\ballowPrivilegeEscalation:\s*true\b/i,
    why: "allows privilege escalation",
  },
  {
    id: "unconfined",
    pattern: /\b(apparmor|seccomp)[=:]\s*"?unconfined\b|\bUnconfined\b/i,
    why: "removes a confinement profile",
  },
  {
    id: "pipe-to-shell",
    pattern: /\b(curl|wget)\b[^\n]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b/i,
    why: "pipes a download into a shell",
  },
  {
    id: "run-downloaded-script",
    pattern: /\b(ba|z|da|k)?sh\s+<\(\s*(curl|wget)\b/i,
    why: "runs a downloaded script",
  },
  DOWNLOAD_BAN,
  { id: "rm-root", pattern: /\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+\/(\s|$)/, why: "deletes the root filesystem" },
  {
    id: "journal-vacuum",
    pattern: /\bjournalctl\b.*--(vacuum|rotate|flush)/i,
    why: "deletes or rotates away logs (evidence)",
  },
  { id: "destroy-evidence", pattern: /\bhistory\s+-c\b|\bshred\b|\btruncate\b/i, why: "destroys evidence" },
  {
    id: "find-exec",
    pattern: /\bfind\b.*\s(-delete|-exec|-execdir|-ok)\b/i,
    why: "deletes or runs programs on what it finds; give a plain find",
  },
  { id: "crontab-remove", pattern: /\bcrontab\s+-r\b/i, why: "deletes a crontab (evidence)" },
  {
    id: "chmod-octal-writable",
    pattern: /\bchmod\b.*\s[0-7]*[2367](\s|$)|\bchmod\b.*\s(a|o|ugo)?\+[rx]*w/i,
    why: "makes files world-writable",
  },
  {
    id: "kernel-settings",
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
  const all = shellWords(command.replace(PLACEHOLDER, "VALUE"));
  const words = wrappedWords(all);
  const program = words[0] ?? "";
  const actions = actionWords(words);
  if (all.includes(">") || all.includes(">>") || /(^|\s)>>?\S/.test(command)) return "change";
  // SIGSTOP and SIGCONT freeze and resume: nothing is lost.
  if (
    (program === "kill" || program === "pkill") &&
    words.some((w) => /^-(s\s*)?(STOP|CONT|SIGSTOP|SIGCONT|19|18)$/.test(w))
  )
    return "change";
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
  let text = command.replace(PLACEHOLDER, "VALUE");
  for (const allowed of ALLOWED_SUBSTITUTIONS) text = text.replaceAll(allowed, "STAMP");
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

/**
 * Programs that run another program: the one after them (and their own options) is what the
 * command does. Each maps to its options that take a value.
 */
const WRAPPERS: Record<string, Set<string>> = {
  sudo: new Set(["-u", "--user", "-g", "--group", "-C", "-h", "--host", "-p", "--prompt", "-r", "-t", "-D"]),
  doas: new Set(["-u", "-C"]),
  env: new Set(["-u", "--unset", "-C", "--chdir", "-S", "--split-string"]),
  nice: new Set(["-n", "--adjustment"]),
  timeout: new Set(["-s", "--signal", "-k", "--kill-after"]),
  nsenter: new Set(["-t", "--target", "-S", "--setuid", "-G", "--setgid", "-w", "--wd", "-r", "--root"]),
};

/** The words of the command that wrappers run, wrappers and their options removed. */
export function wrappedWords(words: string[]): string[] {
  let i = 0;
  while (i < words.length && WRAPPERS[words[i]!]) {
    const valueFlags = WRAPPERS[words[i]!]!;
    const wrapper = words[i]!;
    i++;
    while (i < words.length) {
      const w = words[i]!;
      if (w === "--") {
        i++;
        break;
      }
      if (valueFlags.has(w)) i += 2;
      else if (w.startsWith("-") && w.length > 1) i++;
      else if (wrapper === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i++;
      else if (wrapper === "timeout" && /^\d+(\.\d+)?[smhd]?$/.test(w)) {
        i++;
        break;
      } else break;
    }
  }
  return words.slice(i);
}

/** The program a command runs, after any wrapper (`sudo`, `doas`, `env VAR=…`, `nice`, `timeout`, `nsenter`). */
export function programOf(command: string): string {
  return wrappedWords(shellWords(command.replace(PLACEHOLDER, "VALUE")))[0] ?? "";
}

/** Command substitutions a step may use: a timestamp for the name of an evidence file. */
const ALLOWED_SUBSTITUTIONS = ["$(date -u +%Y%m%dT%H%M%SZ)"];

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
  if (/\bkubectl\b.*\bget\s+(clusterroles?|roles?)(\s|$)(?!.*\bbindings?\b).*-o\s*wide\b/.test(command))
    problems.push(
      "lists roles with `-o wide`, which prints no rules; use `-o yaml` or `describe` on the role",
    );
  if (program === "pkill" && !/\s--ns\s/.test(command))
    problems.push("stops processes by name, which also hits others that share (or fake) it; stop by PID");
  for (const m of command.matchAll(PLACEHOLDER)) {
    if (m[1] === NAMESPACE_PID && quoteStateAt(command, m.index) !== "none")
      problems.push(`puts {{${NAMESPACE_PID}}} inside quotes, where its command substitution would not run`);
  }
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
const RuleOverrideSchema = z.strictObject({
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
});
/** A rule's own tuning list, extended (`override: {items: append}`). */
const ListOverrideSchema = z.strictObject({
  list: z.string().min(1),
  items: z.array(z.string()).min(1),
  override: z.strictObject({ items: z.enum(["append", "replace"]) }),
});
/** A rule's own tuning macro, given a condition (`override: {condition: replace}`). */
const MacroOverrideSchema = z.strictObject({
  macro: z.string().min(1),
  condition: z.string().min(1),
  override: z.strictObject({ condition: z.enum(["append", "replace"]) }),
});
const RuleTuningSchema = z.array(z.union([RuleOverrideSchema, ListOverrideSchema, MacroOverrideSchema]));

/**
 * A tuning snippet must be YAML that Falco accepts for changing an existing rule: the `override:` key
 * (Falco ≥ 0.36) or a bare `enabled:`; the deprecated `append: true` is refused.
 */
export function tuningProblems(snippet: string, ruleNames: string[]): string[] {
  const placed: string[] = [];
  for (const m of snippet.matchAll(PLACEHOLDER)) {
    const field = m[1]!.replace(/\[.*\]$/, "");
    if (FREE_TEXT_FIELDS.includes(field))
      placed.push(
        `pre-fills {{${m[1]}}}, text the process chooses freely; an exception on it matches whatever an attacker writes next`,
      );
    if (tuningPlaceholderContext(snippet, m.index) === null)
      placed.push(`puts {{${m[1]}}} neither as a YAML list item nor on a line of a block \`condition: |\``);
  }
  if (placed.length > 0) return placed;
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
    if (!("rule" in item)) continue;
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

/** Fields naming a file or directory as the process saw it: a path inside its container. */
const PATH_FIELDS =
  /^(fd\.name|fd\.nameraw|fd\.directory|fd\.filename|proc\.exepath|proc\.pexepath|proc\.cwd|fs\.path\..*|evt\.arg\..*)$/;
const PROCESS_ROOT = /\/proc\/\{\{(ns\.pid|proc\.pid)\}\}\/root$/;

/**
 * Where a step runs must be said for host and Kubernetes guidance, and fit its command: a path
 * the process saw is read on the node only under `/proc/<pid>/root` (or in a `host` step, shown
 * only for host processes), and each CLI runs where it belongs.
 */
function placeProblems(step: Step): string[] {
  const command = step.command;
  if (!command) return [];
  if (!step.where) return ["does not say where it runs (`where:`)"];
  const problems: string[] = [];
  const program = programOf(command);
  const wants: Record<string, string[]> = {
    docker: ["docker"],
    crictl: ["cri"],
    kubectl: /\{\{\s*k8s\.pod\.name\s*\}\}/.test(command) ? ["pod"] : ["cluster", "pod"],
  };
  const allowed = wants[program];
  if (allowed && !allowed.includes(step.where))
    problems.push(`runs ${program}, which belongs to where: ${allowed.join(" or ")}, not ${step.where}`);
  if (!allowed && ["pod", "cluster"].includes(step.where))
    problems.push(`says where: ${step.where}, but runs ${program}`);
  for (const m of command.matchAll(PLACEHOLDER)) {
    if (step.where === "host" || !PATH_FIELDS.test(m[1]!)) continue;
    if (!PROCESS_ROOT.test(command.slice(0, m.index)))
      problems.push(
        `uses {{${m[1]}}} as a path on the node, where it names the host's file, not the container's; ` +
          "prefix it with /proc/{{ns.pid}}/root or make the step `where: host`",
      );
  }
  if (step.where === "host" && command.includes(`{{${NAMESPACE_PID}}}`))
    problems.push("uses {{ns.pid}} in a host step; make it `where: node`");
  return problems;
}

function stepProblems(
  step: Step,
  section: "investigate" | "contain" | "prevent",
  capturedBefore: boolean,
  placeMatters: boolean,
): string[] {
  const problems: string[] = [];
  if (placeMatters) problems.push(...placeProblems(step));
  if (step.command) {
    const own = commandProblems(step.command);
    problems.push(...own);
    if (own.length === 0) {
      const effect = commandEffect(step.command);
      if (section === "investigate" && effect !== "read")
        problems.push("changes state, but investigation steps must be read-only");
      if (section === "contain" && effect === "destroy" && !capturedBefore)
        problems.push("destroys evidence before any capture step");
      // On hosts and clusters, evidence lives where the change happens (files, processes, objects):
      // a capture comes before any change, not only before a destroy.
      else if (
        placeMatters &&
        section === "contain" &&
        effect === "change" &&
        !step.capture &&
        !capturedBefore
      )
        problems.push("changes state before any capture step");
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
  const placeMatters = entry.source === "syscall" || entry.source === "k8s_audit";
  for (const section of ["investigate", "contain", "prevent"] as const) {
    let captured = false;
    entry[section].forEach((step, i) => {
      for (const p of stepProblems(step, section, captured, placeMatters))
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

import { type FalcoAlert, type FieldValue, fieldText, isAbsent } from "../falco/alert.js";
import type { Enrichment } from "../enrich/enrich.js";

/**
 * Facts the report derives from the alert instead of guessing. Each one is a sentence that is true
 * for the values at hand; a fact whose inputs are missing is left out.
 */
export interface Observation {
  id:
    | "container-age"
    | "host-process"
    | "interactive"
    | "lineage"
    | "exe-location"
    | "login"
    | "benign-pattern";
  /** Prose, with the alert's own values kept apart so that renderers can show them as code. */
  parts: ObservationPart[];
}
export type ObservationPart = string | { value: string };

/** said`ran ${name} from ${path}` → prose and values, the values marked. */
function said(strings: TemplateStringsArray, ...values: string[]): ObservationPart[] {
  const parts: ObservationPart[] = [];
  strings.forEach((s, i) => {
    if (s) parts.push(s);
    if (i < values.length) parts.push({ value: values[i]! });
  });
  return parts;
}

/** The observation as one plain sentence, for logs and tests. */
export function observationText(o: Observation): string {
  return o.parts.map((p) => (typeof p === "string" ? p : p.value)).join("");
}

const RFC3339_NANOS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time as nanoseconds since the epoch, keeping Falco's nanoseconds. */
export function rfc3339ToNanos(time: string): bigint | null {
  const m = RFC3339_NANOS.exec(time);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** A field holding nanoseconds since the epoch (Falco's `*.start_ts`, `evt.rawtime`). */
function nanosField(value: FieldValue | undefined): bigint | null {
  if (isAbsent(value) || Array.isArray(value)) return null;
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isFinite(value)) return BigInt(Math.trunc(value));
  if (typeof value === "string" && /^\d{1,20}$/.test(value)) return BigInt(value);
  return null;
}

/** "0.4 s", "12 min", "3 h 5 min", "6 days" — precise where it matters, short where it does not. */
export function formatDuration(ns: bigint): string {
  const seconds = Number(ns) / 1e9;
  if (seconds < 10) return `${seconds.toFixed(seconds < 1 ? 2 : 1).replace(/\.?0+$/, "") || "0"} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

function text(alert: FalcoAlert, field: string): string | null {
  const v = alert.outputFields[field];
  return isAbsent(v) ? null : fieldText(v);
}

const WRITABLE_OR_MEMORY = ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/", "/dev/mqueue/"];

export function observe(alert: FalcoAlert, enrichment: Enrichment): Observation[] {
  const out: Observation[] = [];
  const rawContainerId = alert.outputFields["container.id"];
  const containerId = rawContainerId === "" ? "" : text(alert, "container.id");

  if (containerId === "") {
    out.push({
      id: "host-process",
      parts: [
        "The alert names no container (container.id is empty): the process ran on the host, or in a container Falco had not identified yet.",
      ],
    });
  } else if (containerId === "host") {
    out.push({ id: "host-process", parts: ["The process ran on the host itself, not inside a container."] });
  } else if (containerId !== null) {
    const start = nanosField(alert.outputFields["container.start_ts"]);
    const at = nanosField(alert.outputFields["evt.time"]) ?? rfc3339ToNanos(alert.time);
    if (start !== null && start > 0n && at !== null) {
      const age = at - start;
      if (age >= 0n) {
        const fresh = age < 60_000_000_000n;
        out.push({
          id: "container-age",
          parts: [
            `The container had started ${formatDuration(age)} before the event` +
              (fresh
                ? ": within its first minute, while entrypoint and init scripts typically still run."
                : "."),
          ],
        });
      } else {
        out.push({
          id: "container-age",
          parts: [
            "The container's recorded start time is later than the event, so its age at the event cannot be told (clock skew or a restarted container).",
          ],
        });
      }
    }
  }

  const tty = text(alert, "proc.tty");
  if (tty !== null) {
    out.push(
      tty === "0"
        ? { id: "interactive", parts: ["Non-interactive: the process had no terminal."] }
        : {
            id: "interactive",
            parts: said`Interactive: the process was attached to a terminal (tty ${tty}), as when it is started from a shell session (SSH, kubectl exec -it, docker run -it).`,
          },
    );
  }

  const chain = [
    text(alert, "proc.name"),
    text(alert, "proc.pname"),
    ...[2, 3, 4, 5, 6, 7].map((n) => text(alert, `proc.aname[${n}]`)),
  ];
  const known = chain.slice(
    0,
    chain.findIndex((n) => n === null) === -1 ? chain.length : chain.findIndex((n) => n === null),
  );
  if (known.length >= 2)
    out.push({
      id: "lineage",
      parts: [
        "Process lineage, newest first: ",
        ...known.flatMap((name, i): ObservationPart[] =>
          i === 0 ? [{ value: name! }] : [" ← ", { value: name! }],
        ),
        ".",
      ],
    });

  const exe = text(alert, "proc.exepath");
  if (exe?.startsWith("memfd:"))
    out.push({
      id: "exe-location",
      parts: said`The executable lives only in memory (${exe}): there is no file on disk to scan.`,
    });
  else if (exe && WRITABLE_OR_MEMORY.some((p) => exe.startsWith(p)))
    out.push({
      id: "exe-location",
      parts: said`The executable lives in a world-writable or memory-backed directory (${exe}), where dropped payloads usually go.`,
    });

  const loginuid = text(alert, "user.loginuid");
  if (loginuid === "-1" || loginuid === "4294967295")
    out.push({
      id: "login",
      parts: [
        "No login session is behind the process (loginuid -1): a service, a cron job or a container entrypoint started it, not a person who logged in.",
      ],
    });
  else if (loginuid !== null && /^\d+$/.test(loginuid))
    out.push({
      id: "login",
      parts: said`The process descends from the login session of user id ${loginuid}: it was started, directly or not, from someone's login to the host.`,
    });

  if (enrichment.verdict)
    out.push({
      id: "benign-pattern",
      parts: [
        `Matches the knowledge base's known-benign pattern "${enrichment.verdict.label}" (see the summary for how to confirm it).`,
      ],
    });
  return out;
}

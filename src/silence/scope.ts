import { type FalcoAlert, fieldValue } from "../falco/alert.js";
import { alertFamily } from "../falco/family.js";

/**
 * What a silence can be narrowed to, beyond its rule: values an alert carries that name where it
 * happened or who did it. Each is read from the alert the same way when the silence is made and when
 * a later alert is matched. Command lines, arguments and argv[0] (`proc.exe`) are never offered: a
 * process writes them itself, so a silence resting on them would hide whatever an attacker writes
 * there next; `proc.exepath` is the path the kernel executed.
 */
export interface ScopeField {
  /** The matcher's name in a stored silence and in the HTTP API (a Falco field, or `k8s.workload`). */
  id: string;
  /** How the modal and the messages name it. */
  label: string;
  read(alert: FalcoAlert): string | undefined;
}

/** A scalar field's value as text; lists and absent values are not matched on. */
function scalar(alert: FalcoAlert, field: string): string | undefined {
  const v = fieldValue(alert, field);
  if (v === undefined || Array.isArray(v)) return undefined;
  const text = String(v);
  return text === "" ? undefined : text;
}

/**
 * The characters Kubernetes uses in generated names (k8s.io/apimachinery rand.SafeEncodeString):
 * no vowels, no 0, 1 or 3, so a generated part cannot spell a word.
 */
const SAFE = "[bcdfghjklmnpqrstvwxz2456789]";
/** `<deployment>-<pod-template-hash>-<5 generated>`: a Deployment's pod (through its ReplicaSet). */
const DEPLOYMENT_POD = new RegExp(`^([a-z0-9][a-z0-9.-]*?)-${SAFE}{6,10}-${SAFE}{5}$`);
/** `<owner>-<5 generated>`: a DaemonSet's, Job's or bare ReplicaSet's pod. */
const OWNED_POD = new RegExp(`^([a-z0-9][a-z0-9.-]*?)-${SAFE}{5}$`);

/**
 * The workload (Deployment, DaemonSet, Job …) that owns a pod, from the pod's name without its
 * generated suffix; undefined when the name shows no generated suffix (a bare pod, a StatefulSet's
 * `<name>-<ordinal>`, whose ordinal cannot be told from a name that ends in a number).
 */
export function workloadOf(podName: string): string | undefined {
  return DEPLOYMENT_POD.exec(podName)?.[1] ?? OWNED_POD.exec(podName)?.[1];
}

const SYSCALL: ScopeField[] = [
  { id: "hostname", label: "Host", read: (a) => a.hostname ?? scalar(a, "hostname") },
  { id: "k8s.ns.name", label: "Namespace", read: (a) => scalar(a, "k8s.ns.name") },
  {
    id: "k8s.workload",
    label: "Workload",
    read: (a) => {
      const pod = scalar(a, "k8s.pod.name");
      return pod === undefined ? undefined : workloadOf(pod);
    },
  },
  {
    id: "container.image.repository",
    label: "Image repository",
    read: (a) => scalar(a, "container.image.repository"),
  },
  { id: "proc.exepath", label: "Executable path", read: (a) => scalar(a, "proc.exepath") },
  { id: "user.name", label: "User", read: (a) => scalar(a, "user.name") },
];

const field = (id: string, label: string): ScopeField => ({ id, label, read: (a) => scalar(a, id) });

/** Per alert family, the fields a silence made from its alerts is offered, in the order shown. */
const BY_FAMILY: Record<ReturnType<typeof alertFamily>, ScopeField[]> = {
  syscall: SYSCALL,
  other: SYSCALL,
  k8s_audit: [field("ka.target.namespace", "Namespace"), field("ka.user.name", "Kubernetes user")],
  aws_cloudtrail: [field("ct.user.arn", "AWS principal (ARN)"), field("ct.user", "AWS user")],
  gcp_auditlog: [field("gcp.user", "GCP principal")],
  okta: [field("okta.actor.alternateid", "Okta user (login)"), field("okta.actor.name", "Okta user")],
  github: [field("github.user", "GitHub user")],
};

/** Every field a silence may match on, by id (the union over families, first definition wins). */
export const SCOPE_FIELDS: ReadonlyMap<string, ScopeField> = new Map(
  Object.values(BY_FAMILY)
    .flat()
    .reverse()
    .map((f) => [f.id, f]),
);

/** The order matchers are kept and shown in: the order of SCOPE_FIELDS' definitions. */
export const SCOPE_ORDER: readonly string[] = [
  ...new Set(
    Object.values(BY_FAMILY)
      .flat()
      .map((f) => f.id),
  ),
];

/** One value a silence made from this alert could match on. */
export interface ScopeValue {
  field: string;
  label: string;
  value: string;
}

/** The values this alert carries that a silence made from it can be narrowed to. */
export function scopeOf(alert: FalcoAlert): ScopeValue[] {
  const out: ScopeValue[] = [];
  for (const f of BY_FAMILY[alertFamily(alert)]) {
    const value = f.read(alert);
    if (value !== undefined) out.push({ field: f.id, label: f.label, value });
  }
  return out;
}

/** A field's value in an alert, as a silence compares it. */
export function scopeValue(alert: FalcoAlert, fieldId: string): string | undefined {
  return SCOPE_FIELDS.get(fieldId)?.read(alert);
}

/**
 * The values a silence made from several alerts at once (a fleet roll-up's members) can be narrowed
 * to: those every one of them carries, with the same value. None for no alerts.
 */
export function sharedScope(alerts: readonly FalcoAlert[]): ScopeValue[] {
  const [first, ...rest] = alerts;
  if (!first) return [];
  return scopeOf(first).filter((s) => rest.every((a) => scopeValue(a, s.field) === s.value));
}

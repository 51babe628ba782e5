import { z } from "zod";
import { type FalcoAlert, fieldText, isAbsent } from "../falco/alert.js";
import { normalisePriority, type Priority, priorityRank } from "../falco/priority.js";
import { ChannelIdSchema } from "../config/slack-ids.js";
import { parseYamlSource, schemaProblems } from "../yaml-source.js";

const channelId = ChannelIdSchema;
const oneOrMany = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const priority = z.string().transform((p, ctx) => {
  const normalised = normalisePriority(p);
  if (!normalised)
    ctx.addIssue({
      code: "custom",
      message: `must be a Falco priority such as critical or warning (got "${p}")`,
    });
  return normalised ?? "Debug";
});

const RouteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** Every condition given must hold; a list matches when any of its items does. */
  when: z
    .strictObject({
      /** This priority or a more severe one. */
      priority: priority.optional(),
      /** Rule names, exact or with `*` and `?` wildcards. */
      rule: oneOrMany.optional(),
      /** The alert carries at least one of these tags. */
      tags: oneOrMany.optional(),
      source: oneOrMany.optional(),
      hostname: oneOrMany.optional(),
      /** Kubernetes namespace: `k8s.ns.name` for syscall alerts, `ka.target.namespace` for audit ones. */
      namespace: oneOrMany.optional(),
    })
    .default({}),
  channel: channelId,
  /** Whether the thread of each alert message this route posts logs its state changes. */
  threadLog: z.boolean().default(true),
});

const RoutesFileSchema = z.strictObject({ routes: z.array(RouteSchema) });

export type Route = z.infer<typeof RouteSchema>;

export class RoutesError extends Error {
  constructor(readonly problems: string[]) {
    super(`Routing file is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RoutesError";
  }
}

/** Parses a routing file; problems are reported with file, line and column. */
export function parseRoutes(text: string, file: string): Route[] {
  const source = parseYamlSource(text, file);
  if (!source.ok) throw new RoutesError([source.problem]);
  const parsed = RoutesFileSchema.safeParse(source.value);
  if (!parsed.success) throw new RoutesError(schemaProblems(parsed.error, source.where));
  return parsed.data.routes;
}

/** `*` any run of characters, `?` one character; everything else literal (rule names hold `/`, `(`, …). */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "s").test(value);
}

function namespaceOf(alert: FalcoAlert): string | null {
  for (const field of ["k8s.ns.name", "ka.target.namespace"]) {
    const v = alert.outputFields[field];
    if (!isAbsent(v)) return fieldText(v);
  }
  return null;
}

export function routeMatches(route: Route, alert: FalcoAlert): boolean {
  const w = route.when;
  if (w.priority && priorityRank(alert.priority) > priorityRank(w.priority as Priority)) return false;
  if (w.rule && !w.rule.some((p) => globMatches(p, alert.rule))) return false;
  if (w.tags && !w.tags.some((t) => alert.tags.includes(t))) return false;
  if (w.source && !w.source.some((p) => globMatches(p, alert.source))) return false;
  if (w.hostname && !w.hostname.some((p) => alert.hostname !== null && globMatches(p, alert.hostname)))
    return false;
  if (w.namespace) {
    const ns = namespaceOf(alert);
    if (ns === null || !w.namespace.some((p) => globMatches(p, ns))) return false;
  }
  return true;
}

export interface RoutingDecision {
  /** Where the alert's message goes. */
  channel: string;
  /** false when the alert is below MIN_PRIORITY: stored and answerable, but not posted. */
  post: boolean;
  /** The route that matched (its name, or its position), or "default". */
  route: string;
}

export interface Routing {
  routes: Route[];
  defaultChannel: string;
  minPriority: Priority;
}

/** First matching route wins; otherwise the default channel. */
export function routeAlert(alert: FalcoAlert, routing: Routing): RoutingDecision {
  const post = priorityRank(alert.priority) <= priorityRank(routing.minPriority);
  const index = routing.routes.findIndex((r) => routeMatches(r, alert));
  if (index === -1) return { channel: routing.defaultChannel, post, route: "default" };
  const route = routing.routes[index]!;
  return { channel: route.channel, post, route: route.name ?? `routes[${index}]` };
}

/** Every channel a routing can post to (one BullMQ queue and pacing limit each). */
export function routingChannels(routing: Routing): string[] {
  return [...new Set([routing.defaultChannel, ...routing.routes.map((r) => r.channel)])];
}

/**
 * Whether alert messages in this channel log their state changes in their thread: not when a route
 * that posts to it turns `threadLog` off.
 */
export function threadLogEnabled(routing: Routing, channel: string): boolean {
  return !routing.routes.some((r) => r.channel === channel && !r.threadLog);
}

import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { contentKeyOf, DEFAULT_GROUP_FIELDS, groupKeyOf, sampleOf } from "../../src/route/grouping.js";
import {
  globMatches,
  parseRoutes,
  routeAlert,
  RoutesError,
  routingChannels,
} from "../../src/route/routes.js";

const alert = (over: Partial<FalcoAlert> = {}): FalcoAlert => ({
  uuid: "u1",
  uuidGenerated: false,
  rule: "Terminal shell in container",
  priority: "Notice",
  source: "syscall",
  hostname: "prod-node-1",
  time: "2025-06-01T10:00:00.000000001Z",
  timeDerivedFrom: "alert",
  output: "x",
  outputFields: { "k8s.ns.name": "payments", "container.id": "abc", "proc.cmdline": "bash -i" },
  tags: ["T1059", "container"],
  repairs: [],
  ...over,
});

const ROUTES = `routes:
  - name: critical
    when: { priority: critical }
    channel: C0CRITICAL
  - name: payments shells
    when:
      rule: "Terminal shell*"
      namespace: [payments, billing]
      hostname: "prod-*"
      tags: T1059
    channel: C0PAYMENTS
  - when: { source: k8s_audit }
    channel: C0AUDIT
`;

describe("routing", () => {
  const routing = {
    routes: parseRoutes(ROUTES, "routes.yaml"),
    defaultChannel: "C0DEFAULT",
    minPriority: "Notice" as const,
  };

  it("sends each alert to the first matching route, else to the default channel", () => {
    expect(routeAlert(alert({ priority: "Emergency" }), routing)).toMatchObject({
      channel: "C0CRITICAL",
      route: "critical",
    });
    expect(routeAlert(alert(), routing)).toMatchObject({ channel: "C0PAYMENTS", route: "payments shells" });
    expect(routeAlert(alert({ hostname: "dev-node" }), routing).channel).toBe("C0DEFAULT");
    expect(routeAlert(alert({ outputFields: { "k8s.ns.name": "web" } }), routing).channel).toBe("C0DEFAULT");
    expect(
      routeAlert(alert({ source: "k8s_audit", rule: "Attach/Exec Pod", outputFields: {} }), routing),
    ).toMatchObject({ channel: "C0AUDIT", route: "routes[2]" });
    expect(routingChannels(routing)).toEqual(["C0DEFAULT", "C0CRITICAL", "C0PAYMENTS", "C0AUDIT"]);
  });

  it("stores but does not post alerts below MIN_PRIORITY", () => {
    expect(routeAlert(alert({ priority: "Informational" }), routing).post).toBe(false);
    expect(routeAlert(alert({ priority: "Notice" }), routing).post).toBe(true);
  });

  it("globs with * and ?, everything else literal", () => {
    expect(globMatches("Launch * Container", "Launch Privileged Container")).toBe(true);
    expect(globMatches("Attach/Exec Pod", "Attach/Exec Pod")).toBe(true);
    expect(globMatches("node-?", "node-12")).toBe(false);
    expect(globMatches("a.b", "axb")).toBe(false);
  });

  it("reports routing-file mistakes with file, line and column", () => {
    const bad = `routes:\n  - when: { priority: loud }\n    channel: "#alerts"\n`;
    let error: unknown;
    try {
      parseRoutes(bad, "routes.yaml");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RoutesError);
    const problems = (error as RoutesError).problems;
    expect(problems).toContainEqual(
      expect.stringMatching(/^routes\.yaml:2:\d+ \(routes\.0\.when\.priority\): must be a Falco priority/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^routes\.yaml:3:\d+ \(routes\.0\.channel\): must be a Slack channel id/),
    );
    expect(() => loadConfig({ ROUTES_FILE: "/nonexistent/routes.yaml" })).toThrow(
      /ROUTES_FILE cannot be read/,
    );
  });
});

describe("grouping keys", () => {
  it("group alerts of one rule, host and workload, and tell copies by content", () => {
    const a = alert();
    const b = alert({
      uuid: "u2",
      time: "2025-06-01T10:00:05.000000001Z",
      outputFields: { ...a.outputFields, "proc.cmdline": "sh" },
    });
    expect(groupKeyOf(a, DEFAULT_GROUP_FIELDS)).toBe(groupKeyOf(b, DEFAULT_GROUP_FIELDS));
    expect(groupKeyOf(a, DEFAULT_GROUP_FIELDS)).not.toBe(
      groupKeyOf(alert({ hostname: "other" }), DEFAULT_GROUP_FIELDS),
    );
    expect(contentKeyOf(a)).toBe(contentKeyOf({ ...a, uuid: "u3" }));
    expect(contentKeyOf(a)).not.toBe(contentKeyOf(b));
    expect(sampleOf(b)).toBe("sh");
  });

  it("keep cloud alerts of different principals apart, though Falco's host is the same", () => {
    const ct = (user: string, ip: string) =>
      alert({
        source: "aws_cloudtrail",
        rule: "Console Login Without MFA",
        outputFields: { "ct.user": user, "ct.srcip": ip, "ct.region": "eu-west-1" },
      });
    const key = (a: ReturnType<typeof alert>) => groupKeyOf(a, DEFAULT_GROUP_FIELDS);
    expect(key(ct("alice", "198.51.100.1"))).toBe(key(ct("alice", "198.51.100.2")));
    expect(key(ct("alice", "198.51.100.1"))).not.toBe(key(ct("bob", "198.51.100.1")));
    expect(key(ct("alice", "198.51.100.1"))).not.toContain("container.id=");
    expect(sampleOf(ct("alice", "198.51.100.2"))).toBe("198.51.100.2");
  });
});

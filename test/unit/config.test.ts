import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, ENV_VARIABLES, loadConfig } from "../../src/config/config.js";

describe("configuration", () => {
  it("has the documented defaults and preview mode without a token", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      redisUrl: undefined,
      slack: null,
      ingestToken: undefined,
      maxBodyBytes: 1048576,
      logLevel: "info",
      slackApiUrl: "https://slack.com/api/",
    });
  });

  it("rolls up fleets by default, and either fleet setting at 0 turns roll-ups off", () => {
    expect(loadConfig({}).grouping).toMatchObject({ rollupGroups: 3, rollupWindowSeconds: 300 });
    expect(loadConfig({ FLEET_ROLLUP_GROUPS: "0" }).grouping.rollupGroups).toBe(0);
    expect(loadConfig({ FLEET_ROLLUP_WINDOW_SECONDS: "0" }).grouping.rollupGroups).toBe(0);
    expect(
      loadConfig({ FLEET_ROLLUP_GROUPS: "10", FLEET_ROLLUP_WINDOW_SECONDS: "60" }).grouping,
    ).toMatchObject({
      rollupGroups: 10,
      rollupWindowSeconds: 60,
    });
    for (const [name, value] of [
      ["FLEET_ROLLUP_GROUPS", "-1"],
      ["FLEET_ROLLUP_GROUPS", "three"],
      ["FLEET_ROLLUP_WINDOW_SECONDS", "86401"],
    ])
      expect(() => loadConfig({ [name!]: value })).toThrow(new RegExp(`- ${name} `));
  });

  it("recovers a dead worker's jobs within 15 s and announces a minute's backlog by default", () => {
    expect(loadConfig({})).toMatchObject({ jobLockSeconds: 10, backlogNoticeSeconds: 60 });
    expect(loadConfig({ BACKLOG_NOTICE_SECONDS: "0" }).backlogNoticeSeconds).toBe(0);
    expect(() => loadConfig({ BACKLOG_NOTICE_SECONDS: "-1" })).toThrow(/- BACKLOG_NOTICE_SECONDS /);
    expect(() => loadConfig({ JOB_LOCK_SECONDS: "0" })).toThrow(/- JOB_LOCK_SECONDS /);
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: "", PORT: " " }).slack).toBeNull();
  });

  it("lists every bad variable in one error", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "http",
        REDIS_URL: "localhost:6379",
        SLACK_BOT_TOKEN: "xoxp-user",
        LOG_LEVEL: "loud",
        INGEST_TOKEN: "short",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ["PORT", "REDIS_URL", "SLACK_BOT_TOKEN", "LOG_LEVEL", "INGEST_TOKEN"])
      expect(message).toContain(`- ${name} `);
  });

  it("requires the signing secret and channel with a token, and defaults escalations to the alert channel", () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: "xoxb-1" })).toThrow(
      /SLACK_CHANNEL is required with SLACK_BOT_TOKEN[\s\S]*SLACK_SIGNING_SECRET is required/,
    );
    const c = loadConfig({
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "0123456789abcdef",
      SLACK_CHANNEL: "C0123",
    });
    expect(c.slack).toMatchObject({ channel: "C0123", escalationChannel: "C0123", appToken: undefined });
    expect(() =>
      loadConfig({
        SLACK_BOT_TOKEN: "xoxb-1",
        SLACK_SIGNING_SECRET: "0123456789abcdef",
        SLACK_CHANNEL: "#alerts",
      }),
    ).toThrow(/SLACK_CHANNEL must be a Slack channel id/);
  });
});

describe("Redis Cluster settings", () => {
  it("connects as a cluster only when asked, and then needs a node, a {hashtag} prefix and database 0", () => {
    expect(loadConfig({}).redisCluster).toBe(false);
    const c = loadConfig({
      REDIS_CLUSTER: "true",
      REDIS_URL: "redis://node-1:6379",
      REDIS_KEY_PREFIX: "{falco-chatops}",
    });
    expect(c).toMatchObject({ redisCluster: true, keyPrefix: "{falco-chatops}" });
    expect(() => loadConfig({ REDIS_CLUSTER: "yes" })).toThrow(/REDIS_CLUSTER must be true or false/);
    expect(() => loadConfig({ REDIS_CLUSTER: "true", REDIS_KEY_PREFIX: "{fc}" })).toThrow(
      /REDIS_URL is required with REDIS_CLUSTER=true/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER: "true", REDIS_URL: "redis://node-1:6379" })).toThrow(
      /REDIS_KEY_PREFIX must hold a \{hashtag\} with REDIS_CLUSTER=true/,
    );
    expect(() =>
      loadConfig({ REDIS_CLUSTER: "true", REDIS_URL: "redis://node-1:6379/2", REDIS_KEY_PREFIX: "{fc}" }),
    ).toThrow(/cannot select a database with REDIS_CLUSTER=true/);
    // Both at once: one error names both, as for every other variable.
    expect(() => loadConfig({ REDIS_CLUSTER: "true", REDIS_URL: "redis://node-1:6379/2" })).toThrow(
      /REDIS_KEY_PREFIX must hold a \{hashtag\}[\s\S]*cannot select a database/,
    );
  });
});

describe("configuration docs", () => {
  it("document every variable in the README's table and in .env.example", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    const undocumented = ENV_VARIABLES.filter((v) => !readme.includes(`| \`${v}\``));
    const notInExample = ENV_VARIABLES.filter((v) => !new RegExp(`^${v}=`, "m").test(example));
    expect({ undocumented, notInExample }).toEqual({ undocumented: [], notInExample: [] });
  });
});

import { spawnSync } from "node:child_process";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { chooseRedis, redisAnswers } from "../../src/main/redis-bootstrap.js";

const log = pino({ level: "silent" });
const CLOSED_PORT = 1; // nothing listens on port 1 here
const haveRedisServer = spawnSync("redis-server", ["--version"]).status === 0;

describe("npm start without REDIS_URL", () => {
  it("uses REDIS_URL as given", async () => {
    const choice = await chooseRedis("redis://example:6379", log);
    expect(choice.url).toBe("redis://example:6379");
    expect(choice.child).toBeNull();
  });

  it.skipIf(!haveRedisServer)(
    "starts a private redis-server when nothing answers (skipped without redis-server on PATH)",
    async () => {
      const choice = await chooseRedis(undefined, log, { probePort: CLOSED_PORT });
      try {
        expect(choice.child).not.toBeNull();
        const port = Number(new URL(choice.url).port);
        expect(await redisAnswers("127.0.0.1", port)).toBe(true);
      } finally {
        choice.stop();
      }
    },
  );

  it("explains how to get Redis when there is none to start", async () => {
    await expect(
      chooseRedis(undefined, log, { probePort: CLOSED_PORT, command: "redis-server-that-does-not-exist" }),
    ).rejects.toThrow(/No Redis: REDIS_URL is not set[\s\S]*apt-get install redis-server/);
  });
});

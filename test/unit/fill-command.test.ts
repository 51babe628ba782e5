import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fillCommand } from "../../src/enrich/placeholders.js";
import type { FalcoAlert } from "../../src/falco/alert.js";

/*
 * Commands are filled with attacker-controlled values, then pasted into a shell. These tests hand
 * the filled command to a real bash, with its program replaced by one that prints its arguments,
 * and check that every value arrived as literal text, in the word where the template put it.
 */

const scratch = mkdtempSync(join(tmpdir(), "fill-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const canary = join(scratch, "pwned");

const HOSTILE = [
  "plain-value",
  "it's",
  'quote"and\\backslash',
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  "; touch " + canary,
  "two words",
  "*",
  "line\nbreak",
  "<!channel> <@U123>",
  "$HOME ${PATH}",
  "'\"'\"",
];

function alertWith(value: string): FalcoAlert {
  return {
    uuid: "9b2f6c1e-3d4a-4b5c-8d6e-7f8091a2b3c4",
    uuidGenerated: false,
    rule: "R",
    priority: "Notice",
    source: "okta",
    hostname: null,
    time: "2024-11-22T09:12:03.112233445Z",
    timeDerivedFrom: "alert",
    output: "",
    outputFields: { "okta.actor.name": value },
    tags: [],
    repairs: [],
  };
}

/** The words bash makes of `command`, its program swapped for one that prints them. */
function bashWords(command: string): string[] {
  const program = command.split(" ")[0]!;
  const script = `words() { printf '%s\\0' "$@"; }\nwords ${command.slice(program.length)}\n`;
  const out = execFileSync("bash", ["--norc", "--noprofile", "-c", script], {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    env: { PATH: process.env.PATH, OKTA_ORG_URL: "https://example.okta.com", OKTA_API_TOKEN: "t" },
  });
  return out.split("\0").slice(0, -1);
}

/** How the query languages (Logging filters, Okta's SCIM filters) escape a string literal. */
const literal = (v: string) => v.replace(/[\\"]/g, "\\$&");

describe("commands filled with hostile values", () => {
  it.each(HOSTILE)("keep %j as one literal word when bare", (value) => {
    const filled = fillCommand("aws iam list-access-keys --user-name {{okta.actor.name}}", alertWith(value));
    expect(bashWords(filled.text!)).toEqual(["iam", "list-access-keys", "--user-name", value]);
    expect(existsSync(canary)).toBe(false);
  });

  it.each(HOSTILE)("keep %j literal inside a single-quoted word", (value) => {
    const filled = fillCommand(
      "gh api --method GET /x -f phrase='actor:{{okta.actor.name}}'",
      alertWith(value),
    );
    expect(bashWords(filled.text!)).toEqual(["api", "--method", "GET", "/x", "-f", `phrase=actor:${value}`]);
    expect(existsSync(canary)).toBe(false);
  });

  it.each(HOSTILE)("escape %j for the query language and the shell inside a quoted filter", (value) => {
    const filled = fillCommand(
      `curl --get --data-urlencode 'filter=actor.displayName eq "{{okta.actor.name}}"' "$OKTA_ORG_URL/api/v1/logs"`,
      alertWith(value),
    );
    expect(bashWords(filled.text!)).toEqual([
      "--get",
      "--data-urlencode",
      `filter=actor.displayName eq "${literal(value)}"`,
      "https://example.okta.com/api/v1/logs",
    ]);
    expect(existsSync(canary)).toBe(false);
  });

  it.each(HOSTILE)("keep %j literal inside a double-quoted word", (value) => {
    const filled = fillCommand('grep -F "user={{okta.actor.name}}" audit.log', alertWith(value));
    expect(bashWords(filled.text!)).toEqual(["-F", `user=${value}`, "audit.log"]);
    expect(existsSync(canary)).toBe(false);
  });

  it("says which field is missing instead of leaving a hole", () => {
    const alert = { ...alertWith("x"), outputFields: {} };
    expect(fillCommand("gh repo view {{github.repo.name}}", alert)).toEqual({
      text: null,
      missing: ["the alert carries no github.repo.name"],
    });
  });

  it("reads a field that older plugin versions sent under another name", () => {
    const alert = {
      ...alertWith("x"),
      source: "gcp_auditlog",
      outputFields: { "json.value[/resource/labels/bucket_name]": "ahmed-test" },
    };
    expect(fillCommand("gcloud storage buckets describe gs://{{gcp.storage.bucket}}", alert).text).toBe(
      "gcloud storage buckets describe gs://ahmed-test",
    );
  });
});

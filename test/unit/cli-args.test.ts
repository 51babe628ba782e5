import { describe, expect, it } from "vitest";
import { DEFAULT_DEMO_URL, parseCommandLine, USAGE, UsageError } from "../../src/cli/args.js";

/** The UsageError a command line is refused with. */
function refusal(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

describe("the CLI's command line", () => {
  it("takes the demo's token as --token=T or --token T, before or after the URL", () => {
    const expected = { command: "demo", url: "http://bot.example:3000", token: "abc" };
    expect(parseCommandLine(["demo", "--token=abc", "http://bot.example:3000"])).toEqual(expected);
    expect(parseCommandLine(["demo", "--token", "abc", "http://bot.example:3000"])).toEqual(expected);
    expect(parseCommandLine(["demo", "http://bot.example:3000", "--token", "abc"])).toEqual(expected);
  });

  it("defaults the demo's URL, and its token to INGEST_TOKEN, which --token overrides", () => {
    expect(parseCommandLine(["demo", "--token=abc"])).toEqual({
      command: "demo",
      url: DEFAULT_DEMO_URL,
      token: "abc",
    });
    expect(parseCommandLine(["demo"], { INGEST_TOKEN: "from-env" })).toMatchObject({ token: "from-env" });
    expect(parseCommandLine(["demo", "--token", "flag"], { INGEST_TOKEN: "env" })).toMatchObject({
      token: "flag",
    });
    expect(parseCommandLine(["demo"], {})).toMatchObject({ token: undefined });
  });

  it("refuses an option without its value, an unknown option, and a URL that is not http(s)", () => {
    const missing = refusal(["demo", "--token"]);
    expect(missing.message).toBe("demo: Option '--token <value>' argument missing");
    expect(missing.usage).toBe("Usage: falco-chatops demo [url] [--token T]");
    expect(refusal(["demo", "--token="]).message).toBe("demo: --token needs a value");
    expect(refusal(["demo", "--tokn=abc"]).message).toBe("demo: unknown option --tokn");
    expect(refusal(["demo", "--token", "--html"]).message).toMatch(
      /^demo: Option '--token' argument is ambiguous/,
    );
    expect(refusal(["demo", "localhost:3000"]).message).toBe(
      'demo: "localhost:3000" is not an http:// or https:// URL of a running falco-chatops',
    );
    expect(refusal(["demo", "http://a", "http://b"]).message).toBe("demo takes one URL, not 2");
  });

  it("reads render's and report's flags and their one file, - for stdin", () => {
    expect(parseCommandLine(["render", "alert.json"])).toEqual({
      command: "render",
      expanded: false,
      file: "alert.json",
    });
    expect(parseCommandLine(["render", "-", "--expanded"])).toEqual({
      command: "render",
      expanded: true,
      file: "-",
    });
    expect(parseCommandLine(["report", "--html"])).toEqual({
      command: "report",
      html: true,
      file: undefined,
    });
    expect(refusal(["render", "--html"]).message).toBe("render: unknown option --html");
    expect(refusal(["report", "a.json", "b.json"]).usage).toBe(
      "Usage: falco-chatops report [--html] [file|-]",
    );
  });

  it("reads the kb commands", () => {
    expect(parseCommandLine(["kb", "lint"])).toEqual({ command: "kb lint", dir: undefined });
    expect(parseCommandLine(["kb", "lint", "my-kb"])).toEqual({ command: "kb lint", dir: "my-kb" });
    expect(parseCommandLine(["kb", "coverage", "a.yaml", "b.yaml"])).toEqual({
      command: "kb coverage",
      files: ["a.yaml", "b.yaml"],
    });
    expect(refusal(["kb", "coverage"]).message).toBe("kb coverage needs at least one Falco rules file");
    expect(refusal(["kb", "frob"]).usage).toBe(
      "Usage: falco-chatops kb lint [dir]\n       falco-chatops kb coverage <rules.yaml ...>",
    );
  });

  it("answers help, and names an unknown command with the whole usage", () => {
    for (const argv of [[], ["help"], ["--help"], ["-h"], ["demo", "--help"], ["render", "-h"]])
      expect(parseCommandLine(argv)).toEqual({ command: "help" });
    const unknown = refusal(["frobnicate"]);
    expect(unknown.message).toBe('unknown command "frobnicate"');
    expect(unknown.usage).toBe(USAGE);
    expect(USAGE).toMatch(
      /^Usage:\n {2}falco-chatops render \[--expanded\] \[file\|-\] {3}Print the Block Kit JSON/,
    );
  });
});

import { parseArgs, type ParseArgsConfig } from "node:util";

/** What the command line asks for, its options parsed and checked. */
export type Invocation =
  | { command: "render"; expanded: boolean; file: string | undefined }
  | { command: "report"; html: boolean; file: string | undefined }
  | { command: "demo"; url: string; token: string | undefined }
  | { command: "kb lint"; dir: string | undefined }
  | { command: "kb coverage"; files: string[] }
  | { command: "help" };

type Command = Exclude<Invocation["command"], "help">;

const COMMANDS: Record<Command, { synopsis: string; about: string[] }> = {
  render: {
    synopsis: "falco-chatops render [--expanded] [file|-]",
    about: [
      "Print the Block Kit JSON an alert would produce (no Redis, no Slack).",
      "Reads Falco JSON (one alert, an array, or NDJSON) from file or stdin.",
    ],
  },
  report: {
    synopsis: "falco-chatops report [--html] [file|-]",
    about: [
      "Print the written incident report for a Falco JSON alert (Markdown,",
      "or a standalone HTML page with --html).",
    ],
  },
  demo: {
    synopsis: "falco-chatops demo [url] [--token T]",
    about: [
      "Send sample alerts (memfd_create, a terminal shell, an AWS root sign-in, a storm of 50) to a",
      "running falco-chatops (default http://localhost:3000; token: INGEST_TOKEN).",
    ],
  },
  "kb lint": {
    synopsis: "falco-chatops kb lint [dir]",
    about: ["Validate and safety-lint a knowledge base (default: the bundled one)."],
  },
  "kb coverage": {
    synopsis: "falco-chatops kb coverage <rules.yaml ...>",
    about: ["List which rules of Falco rules files have entries, borrow one, or fall back."],
  },
};

const column = (synopsis: string, about: string[]) =>
  about.map((line, i) => `  ${(i === 0 ? synopsis : "").padEnd(45)}${line}`).join("\n");

export const USAGE = [
  "Usage:",
  ...Object.values(COMMANDS).map((c) => column(c.synopsis, c.about)),
  column("falco-chatops help", ["This help."]),
].join("\n");

export const DEFAULT_DEMO_URL = "http://localhost:3000";

/** A command line that cannot be run as written; `usage` is what to show with the message. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

const usageOf = (...commands: Command[]) =>
  `Usage: ${commands.map((c) => COMMANDS[c].synopsis).join("\n       ")}`;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The command's own options (and --help), strictly: an unknown option or a missing value is an error. */
function parse<O extends Options>(command: Command, args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } } as O & {
        help: { type: "boolean"; short: "h" };
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    // Node's text for an unknown option goes on about positionals that start with a dash.
    const unknown = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /'([^']+)'/.exec(message)?.[1] : undefined;
    throw new UsageError(`${command}: ${unknown ? `unknown option ${unknown}` : message}`, usageOf(command));
  }
}

function atMostOne(command: Command, positionals: string[], what: string): string | undefined {
  if (positionals.length > 1)
    throw new UsageError(`${command} takes one ${what}, not ${positionals.length}`, usageOf(command));
  return positionals[0];
}

function httpUrl(text: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/**
 * Reads the command line (the arguments after the program's name). `env` supplies what an option
 * defaults to (the demo's INGEST_TOKEN). Throws UsageError for anything it cannot run.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: { INGEST_TOKEN?: string | undefined } = {},
): Invocation {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { command: "help" };
    case "render": {
      const { values, positionals } = parse("render", rest, { expanded: { type: "boolean" } });
      if (values.help) return { command: "help" };
      const file = atMostOne("render", positionals, "file (or - for stdin)");
      return { command: "render", expanded: values.expanded ?? false, file };
    }
    case "report": {
      const { values, positionals } = parse("report", rest, { html: { type: "boolean" } });
      if (values.help) return { command: "help" };
      const file = atMostOne("report", positionals, "file (or - for stdin)");
      return { command: "report", html: values.html ?? false, file };
    }
    case "demo": {
      const { values, positionals } = parse("demo", rest, { token: { type: "string" } });
      if (values.help) return { command: "help" };
      const url = atMostOne("demo", positionals, "URL") ?? DEFAULT_DEMO_URL;
      if (!httpUrl(url))
        throw new UsageError(
          `demo: "${url}" is not an http:// or https:// URL of a running falco-chatops`,
          usageOf("demo"),
        );
      if (values.token === "") throw new UsageError("demo: --token needs a value", usageOf("demo"));
      return { command: "demo", url, token: values.token ?? env.INGEST_TOKEN };
    }
    case "kb": {
      const [sub, ...more] = rest;
      if (sub === "lint") {
        const { values, positionals } = parse("kb lint", more, {});
        if (values.help) return { command: "help" };
        return { command: "kb lint", dir: atMostOne("kb lint", positionals, "directory") };
      }
      if (sub === "coverage") {
        const { values, positionals } = parse("kb coverage", more, {});
        if (values.help) return { command: "help" };
        if (positionals.length === 0)
          throw new UsageError("kb coverage needs at least one Falco rules file", usageOf("kb coverage"));
        return { command: "kb coverage", files: positionals };
      }
      throw new UsageError(`unknown kb command "${sub ?? ""}"`, usageOf("kb lint", "kb coverage"));
    }
    default:
      throw new UsageError(`unknown command "${name}"`, USAGE);
  }
}

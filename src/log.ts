import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

/** JSON logs for machines; readable ones on a terminal (or with LOG_FORMAT=pretty). */
export function createLogger(level: string, format: "json" | "pretty"): Logger {
  const options = { level, base: { service: "falco-chatops" } };
  if (format === "pretty")
    return pino(
      options,
      pretty({ sync: true, colorize: process.stdout.isTTY, ignore: "pid,hostname,service" }),
    );
  return pino(options);
}

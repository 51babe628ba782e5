/** Falco's priorities, most severe first, spelled as Falco renders them in JSON output. */
export const PRIORITIES = [
  "Emergency",
  "Alert",
  "Critical",
  "Error",
  "Warning",
  "Notice",
  "Informational",
  "Debug",
] as const;

export type Priority = (typeof PRIORITIES)[number];

const ALIASES: Record<string, Priority> = {
  emerg: "Emergency",
  crit: "Critical",
  err: "Error",
  warn: "Warning",
  info: "Informational",
};

/** Accepts Falco's names in any case (rules files write them upper-case) and the syslog short forms. */
export function normalisePriority(value: string): Priority | undefined {
  const key = value.trim().toLowerCase();
  return PRIORITIES.find((p) => p.toLowerCase() === key) ?? ALIASES[key];
}

/** 0 for Emergency … 7 for Debug. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

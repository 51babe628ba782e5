/**
 * How a person who worked an alert says it ended. Stored on the alert, shown on its message, in
 * `/falco <uuid>`, the report and the API, and counted in /metrics; the values are the API's words.
 */
export const VERDICTS = ["true_positive", "false_positive", "expected_activity", "duplicate"] as const;

export type Verdict = (typeof VERDICTS)[number];

/** What each verdict reads as, in lower case, so that it fits inside a sentence. */
export const VERDICT_LABELS: Record<Verdict, string> = {
  true_positive: "true positive",
  false_positive: "false positive",
  expected_activity: "expected activity",
  duplicate: "duplicate",
};

/** Verdicts that say the rule should not have fired for this case: tuning it is the next step. */
export function invitesTuning(verdict: Verdict): boolean {
  return verdict === "false_positive" || verdict === "expected_activity";
}

export function isVerdict(value: unknown): value is Verdict {
  return typeof value === "string" && (VERDICTS as readonly string[]).includes(value);
}

/** Triage state as the views need it: who acknowledged or escalated the alert, and when. */
export interface TriageState {
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  escalatedBy: string | null;
  escalatedAt: string | null;
  /** Who owns the alert (took it, or was assigned it), and since when. */
  ownedBy?: string | null;
  ownedAt?: string | null;
}

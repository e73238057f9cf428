/**
 * The one severity scale, least severe first: stopped-watch classifies stops
 * on it, audit grades findings on it, and alerts.minSeverity (and the CLI's
 * --fail-on) pick a threshold from it.
 */
export const SEVERITIES = Object.freeze(['info', 'low', 'medium', 'high', 'critical'] as const);

export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/** SNS Publish: "Subjects must be ... less than 100 characters long" (SNS API reference, Publish). */
export const SUBJECT_MAX = 99;

/** `text` cut to at most `max` characters, the cut marked with "...". */
export const capped = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`);

/** SNS subjects: no line breaks or control characters; ASCII so every mail client shows it as is. */
export function subjectLine(text: string): string {
  const clean = text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return capped(clean, SUBJECT_MAX);
}

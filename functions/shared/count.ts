/** How many times each value occurs, for log fields and reports (`{ CONTINUE: 3, ABANDON: 1 }`). */
export function countBy(values: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** `{ ListTasks: 2, DescribeTasks: 1 }` as "2 ListTasks, 1 DescribeTasks", in insertion order. */
export const countsText = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([value, n]) => `${n} ${value}`)
    .join(', ');

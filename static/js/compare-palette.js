// One look per batch: a colour from a palette colour-blind readers can tell apart (Okabe and Ito's,
// set in compare.css for light and dark) and a dash pattern, so colour is never the only cue.

export const LOOKS = [
  { key: "1", dash: null, dashName: "solid" },
  { key: "2", dash: "9 4", dashName: "dashed" },
  { key: "3", dash: "2 3", dashName: "dotted" },
  { key: "4", dash: "10 3 2 3", dashName: "dash-dot" },
];

/** The look of the batch at `index` (0 to 3): its CSS class, its stroke dash and that dash in words. */
export function lookOf(index) {
  const look = LOOKS[index % LOOKS.length];
  return { ...look, className: `series-${look.key}` };
}

/** Statistics and the printed table of the benchmarks. */

export interface Figure {
  median: number;
  p10: number;
  p90: number;
  n: number;
}

export interface Row {
  section: string;
  what: string;
  unit: string;
  ocimon?: Figure;
  conmon?: Figure;
  target?: string;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))));
  return s[i];
}

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

function fmt(f: Figure | undefined): string {
  if (!f || f.n === 0) return "-";
  const d = (
    x: number,
  ) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(Math.abs(x) >= 10 ? 1 : 2));
  return f.p10 === f.p90 ? d(f.median) : `${d(f.median)} (${d(f.p10)}–${d(f.p90)})`;
}

export function printTable(rows: Row[]): void {
  const lines: string[][] = [["figure", "unit", "ocimon", "conmon", "ratio", "target"]];
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      lines.push([`[${r.section}]`, "", "", "", "", ""]);
      section = r.section;
    }
    const ratio = r.ocimon && r.conmon && r.conmon.median
      ? `${(r.ocimon.median / r.conmon.median).toFixed(2)}×`
      : "";
    lines.push([`  ${r.what}`, r.unit, fmt(r.ocimon), fmt(r.conmon), ratio, r.target ?? ""]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}

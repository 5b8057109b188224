/**
 * Columns separated by two spaces; the first row is the header. Columns are left-aligned (the last
 * one unpadded) unless `rightAligned` says otherwise, as for a column of figures.
 */
export function formatTable(rows: string[][], options: { rightAligned?: (column: number) => boolean } = {}): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const align = (cell: string, i: number, last: boolean) => {
    if (options.rightAligned?.(i)) return cell.padStart(widths[i] ?? 0);
    return last ? cell : cell.padEnd(widths[i] ?? 0);
  };
  return rows.map((row) => row.map((cell, i) => align(cell, i, i === row.length - 1)).join('  ')).join('\n');
}

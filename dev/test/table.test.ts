import { describe, expect, it } from 'vitest';
import { formatTable } from '../src/table.js';

describe('formatTable', () => {
  const rows = [
    ['name', 'count', 'state'],
    ['kafka', '12', 'running'],
    ['postgres', '3', 'stopped'],
  ];

  it('left-aligns every column, leaving the last one unpadded', () => {
    expect(formatTable(rows).split('\n')).toEqual(['name      count  state', 'kafka     12     running', 'postgres  3      stopped']);
  });

  it('right-aligns the columns it is told to, as for figures', () => {
    expect(formatTable(rows, { rightAligned: (column) => column === 1 }).split('\n')).toEqual([
      'name      count  state',
      'kafka        12  running',
      'postgres      3  stopped',
    ]);
  });
});

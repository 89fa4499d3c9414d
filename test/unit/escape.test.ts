import { describe, expect, it } from 'vitest';
import { escapeControl, escapeControlKeeping, escapeJsonControl } from '../../src/core/escape.js';

describe('control characters in echoed text', () => {
  const hostile = 'a\u001b]0;title\u0007b\u001b[2Jc\u009b31md\u007fe\r\nf\tg';

  it('writes every C0, DEL and C1 character out, on one line', () => {
    expect(escapeControl(hostile)).toBe('a\\x1b]0;title\\x07b\\x1b[2Jc\\x9b31md\\x7fe\\r\\nf\\tg');
  });

  it('keeps newlines and tabs for multi-line text', () => {
    expect(escapeControl(hostile, { lines: true })).toBe('a\\x1b]0;title\\x07b\\x1b[2Jc\\x9b31md\\x7fe\\r\nf\tg');
  });

  it('on a terminal keeps only our own colour and erase-line sequences', () => {
    const ours = '\r\u001b[2K\u001b[32m✔\u001b[39m ';
    expect(escapeControlKeeping(`${ours}${hostile}`, true)).toBe(`${ours}${escapeControl(hostile, { lines: true })}`);
    expect(escapeControlKeeping(ours, false)).toBe('\\r\\x1b[2K\\x1b[32m✔\\x1b[39m ');
  });

  it('JSON keeps its value while DEL and C1 become \\u escapes', () => {
    const json = escapeJsonControl(JSON.stringify({ v: hostile }));
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json)).toEqual({ v: hostile });
  });
});

import { describe, expect, it } from 'vitest';
import { LineIndex } from '../../src/core/line-index.js';

describe('line:column from the one-pass line index', () => {
  it('counts from 1:1 and moves to the next line after each \\n', () => {
    const text = 'ab\ncd\n\nx';
    const index = new LineIndex(text);
    expect(index.positionOf(0)).toEqual({ line: 1, column: 1 });
    expect(index.positionOf(2)).toEqual({ line: 1, column: 3 }); // the \n ends line 1
    expect(index.positionOf(3)).toEqual({ line: 2, column: 1 });
    expect(index.positionOf(6)).toEqual({ line: 3, column: 1 }); // an empty line
    expect(index.positionOf(7)).toEqual({ line: 4, column: 1 });
    expect(index.positionOf(text.length)).toEqual({ line: 4, column: 2 }); // end of text
  });

  it('treats CRLF as one line end: the \\r is the last column of its line', () => {
    const index = new LineIndex('ab\r\ncd\r\n');
    expect(index.positionOf(2)).toEqual({ line: 1, column: 3 });
    expect(index.positionOf(3)).toEqual({ line: 1, column: 4 });
    expect(index.positionOf(4)).toEqual({ line: 2, column: 1 });
    expect(index.positionOf(8)).toEqual({ line: 3, column: 1 });
  });

  it('counts characters, not UTF-16 units: é and 中 are one column, so is an emoji', () => {
    const text = 'é中😀x\n😀😀y';
    const index = new LineIndex(text);
    expect(index.positionOf(text.indexOf('x'))).toEqual({ line: 1, column: 4 });
    expect(index.positionOf(text.indexOf('y'))).toEqual({ line: 2, column: 3 });
    expect(index.positionOf(text.indexOf('\n'))).toEqual({ line: 1, column: 5 });
  });

  it('clamps offsets outside the text', () => {
    const index = new LineIndex('a\nb');
    expect(index.positionOf(-3)).toEqual({ line: 1, column: 1 });
    expect(index.positionOf(99)).toEqual({ line: 2, column: 2 });
  });
});

/**
 * Offset → line:column for one text, from an index built in one pass: the start of every line and the offset of
 * every astral character (a UTF-16 surrogate pair), each found by binary search. Columns count characters, so an
 * emoji is one column, as editors show it; a line ends at '\n' (the '\r' of CRLF is the last column of its line).
 */
export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in characters (code points). */
  column: number;
}

export class LineIndex {
  private readonly lineStarts: number[] = [0];
  /** Offsets of the second half of each surrogate pair, ascending. */
  private readonly pairTails: number[] = [];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x0a) this.lineStarts.push(i + 1);
      else if (code >= 0xdc00 && code <= 0xdfff && i > 0 && isHighSurrogate(text.charCodeAt(i - 1))) {
        this.pairTails.push(i);
      }
    }
  }

  positionOf(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.text.length));
    const lineIndex = lastAtOrBelow(this.lineStarts, at);
    const lineStart = this.lineStarts[lineIndex]!;
    // Halves of pairs between the line start and the offset are not characters of their own.
    const pairs = countBelow(this.pairTails, at + 1) - countBelow(this.pairTails, lineStart);
    return { line: lineIndex + 1, column: at - lineStart - pairs + 1 };
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Index of the last element <= value (the array is ascending and starts at or below value). */
function lastAtOrBelow(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (sorted[mid]! <= value) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** How many elements are < value. */
function countBelow(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

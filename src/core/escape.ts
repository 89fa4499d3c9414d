/**
 * Text from outside the program (a user's file, a server's message, a record's value, a name) can hold terminal
 * control characters: ESC starts sequences that move the cursor, clear the screen, set the window title or write
 * the clipboard. Such text is shown with each control character written out (ESC as \x1b), so a terminal prints it
 * instead of obeying it.
 */

/** C0 controls, DEL and C1 controls (U+0080-U+009F; a terminal may take U+009B alone as a CSI). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const JSON_UNESCAPED_CONTROL = /[\u007f-\u009f]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function written(char: string): string {
  return NAMED[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Every control character as visible text. With `lines`, newlines and tabs are kept (multi-line output such as
 * rows); without, the result is always one line (an error message).
 */
export function escapeControl(text: string, options: { lines?: boolean } = {}): string {
  return text.replace(options.lines ? CONTROL_BUT_LINES : CONTROL, written);
}

/** JSON.stringify escapes C0 but leaves DEL and C1 raw; this writes them as \u escapes (the same JSON value). */
export function escapeJsonControl(json: string): string {
  return json.replace(JSON_UNESCAPED_CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The sequences this program itself writes to a terminal: colours, and "return, erase the line" for a footer. */
// eslint-disable-next-line no-control-regex
const OWN_SEQUENCE = /\u001b\[[0-9;]*m|\r\u001b\[2K/g;

/**
 * Escapes control characters except newlines, tabs and, when `ownSequences` is set (colour or a footer on a
 * terminal), the sequences of OWN_SEQUENCE. The last net before stderr: untrusted text should be escaped where it
 * is put into a message, since a colour sequence inside it would pass here.
 */
export function escapeControlKeeping(text: string, ownSequences: boolean): string {
  if (!ownSequences) return escapeControl(text, { lines: true });
  let result = '';
  let last = 0;
  for (const match of text.matchAll(OWN_SEQUENCE)) {
    result += escapeControl(text.slice(last, match.index), { lines: true }) + match[0];
    last = match.index + match[0].length;
  }
  return result + escapeControl(text.slice(last), { lines: true });
}

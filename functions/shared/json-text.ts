// A JSON text read without guessing: JSON.parse keeps the last of two equal keys (`{"quantity":1,"quantity":9999}`
// buys 9999) and a body that is not UTF-8 arrives with its bad bytes replaced. Both are refused before anything is
// bought, naming where.
import type { FieldError } from './errors.js';
import { forbiddenKey } from './forbidden-keys.js';

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

type Frame = { keys: Set<string>; key: string | undefined; expectKey: boolean } | { index: number };

/**
 * The JSON pointer of the first key that appears twice in one object, under `prefix`. `text` must already have
 * parsed as JSON: this only walks its tokens, keeping for every open object the keys seen (decoded, so `"a"` and
 * `"\u0061"` are one key) and for every array the index.
 */
export function duplicateKey(text: string, prefix = ''): string | undefined {
  const stack: Frame[] = [];
  const pointer = (last: string) =>
    prefix +
    stack
      .slice(0, -1)
      .map((frame) => `/${'index' in frame ? frame.index : escapePointer(frame.key ?? '')}`)
      .join('') +
    `/${escapePointer(last)}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x22) break;
        if (d === 0x5c) {
          // A backslash: the next character is escaped, whatever it is.
          end++;
          escaped = true;
        }
      }
      const frame = stack.at(-1);
      if (frame && 'keys' in frame && frame.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (frame.keys.has(key)) return pointer(key);
        frame.keys.add(key);
        frame.key = key;
        frame.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) stack.push({ keys: new Set(), key: undefined, expectKey: true });
    else if (c === 0x5b /* [ */) stack.push({ index: 0 });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const frame = stack.at(-1);
      if (frame && 'index' in frame) frame.index++;
      else if (frame) frame.expectKey = true;
    }
  }
  return undefined;
}

/** U+FFFD where a decoder met bytes that were not UTF-8; an escaped `\uFFFD` in the JSON text is the caller's own. */
const REPLACEMENT = '\uFFFD';

/** Bytes as UTF-8, or a field error when they are not. */
export function utf8(bytes: Uint8Array, path: string): { text: string } | { error: FieldError } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { error: { path, message: 'is not valid UTF-8' } };
  }
}

/**
 * A JSON text parsed strictly: valid JSON, no raw U+FFFD (the mark of bytes that were not UTF-8 before something
 * decoded them), no key twice in one object, no `__proto__` key. Field errors name the path under `prefix`.
 */
export function parseJsonText(text: string, prefix: string): { value: unknown } | { error: FieldError } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: { path: prefix, message: 'is not valid JSON' } };
  }
  if (text.includes(REPLACEMENT)) {
    return {
      error: {
        path: prefix,
        message:
          'contains U+FFFD, the mark of bytes that were not valid UTF-8: send UTF-8 (or write the character as \\uFFFD)',
      },
    };
  }
  const duplicate = duplicateKey(text, prefix);
  if (duplicate) {
    return {
      error: { path: duplicate, message: 'appears twice in the same object: which one was meant is ambiguous' },
    };
  }
  const forbidden = forbiddenKey(value, prefix);
  return forbidden ? { error: forbidden } : { value };
}

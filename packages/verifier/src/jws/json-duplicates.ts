/**
 * Whether a JSON text has an object with the same member name twice (after unescaping), given
 * what `JSON.parse` made of it. `JSON.parse` silently keeps the last one, so
 * `{"sub":"alice","sub":"admin"}` would mean one thing to us and maybe another to a proxy or log
 * pipeline; RFC 7515 §4 allows rejecting it, and we do (ATTACKS CLM-11).
 */
export function hasDuplicateKeys(json: string, parsed: object): boolean {
  // The cheap proof, which a flat claims set passes: an object text with m members has at least
  // m − 1 commas. If it has exactly (keys of the parsed object) − 1, every member became its own
  // key (none was overwritten, so m = keys) and there is no other comma, so no nested object has
  // two members either: no name repeats anywhere. Only without a backslash, because V8 in Node
  // 24.21 can give an escaped name the key of another one parsed earlier (`"\u0062"` after `"\\"`
  // became `\`), which would make the key count wrong.
  if (!json.includes('\\') && commas(json) + 1 === Object.keys(parsed).length) return false;
  return scanForDuplicates(json);
}

function commas(json: string): number {
  let count = 0;
  for (let at = json.indexOf(','); at !== -1; at = json.indexOf(',', at + 1)) count += 1;
  return count;
}

/** The exact scan: every member name decoded by itself and remembered per object. */
function scanForDuplicates(json: string): boolean {
  const scopes: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const char = json[i];
    if (char === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const keys = scopes.at(-1);
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys?.has(key)) return true;
        keys?.add(key);
        expectKey = false;
      }
      i = end;
    } else if (char === '{') {
      scopes.push(new Set());
      expectKey = true;
    } else if (char === '[') {
      scopes.push(null);
    } else if (char === '}' || char === ']') {
      scopes.pop();
      expectKey = false;
    } else if (char === ',') {
      expectKey = scopes.at(-1) != null;
    }
  }
  return false;
}

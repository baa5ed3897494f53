/**
 * Whether a JSON text has an object with the same member name twice (after unescaping).
 * `JSON.parse` silently keeps the last one, so `{"sub":"alice","sub":"admin"}` would mean one
 * thing to us and maybe another to a proxy or log pipeline; RFC 7515 §4 allows rejecting it, and
 * we do (ATTACKS CLM-11). The input must already be known to be valid JSON.
 */
export function hasDuplicateKeys(json: string): boolean {
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

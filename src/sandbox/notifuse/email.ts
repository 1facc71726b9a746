/**
 * Email normalisation and validation as Notifuse does it: `NormalizeEmail` (trim Unicode spaces,
 * lower-case) and `govalidator.IsEmail` (asaskevich/govalidator v0.0.0-20230301143203, the
 * version in Notifuse's go.mod).
 *
 * govalidator's pattern is a single RE2 regexp. RE2 runs in linear time; the same pattern in a
 * backtracking engine (V8) is exponential on some inputs, so the pattern is re-expressed here as
 * equivalent linear checks instead of being copied.
 */

/** Go's `unicode.IsSpace`. Unlike `String.prototype.trim`, it does not include U+FEFF. */
const GO_SPACE =
  '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`);

/** `strings.TrimFunc(s, unicode.IsSpace)` */
export function trimUnicodeSpace(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** `strings.ToLower(trimUnicodeSpace(email))`; Go lower-cases rune by rune (simple mapping). */
export function normalizeEmail(email: string): string {
  let out = '';
  for (const ch of trimUnicodeSpace(email)) {
    const lower = ch.toLowerCase();
    out += [...lower].length === 1 ? lower : ([...lower][0] ?? ch);
  }
  return out;
}

/** govalidator's "U" class: `[\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}]` */
function isWide(c: number): boolean {
  return (
    (c >= 0x00a0 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xffef)
  );
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Domain label ends: `[a-zA-Z]|\d|U` */
function isLabelEnd(c: number): boolean {
  return isAsciiLetter(c) || isDigit(c) || isWide(c);
}

/** Top-level label ends: `[a-zA-Z]|U` */
function isTldEnd(c: number): boolean {
  return isAsciiLetter(c) || isWide(c);
}

/** Label middles: `[a-zA-Z]|\d|-|\.|_|~|U` */
function isLabelMiddle(c: number): boolean {
  return isLabelEnd(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

const DOT_ATOM_CHAR = "a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF";
const DOT_ATOM = new RegExp(`^[${DOT_ATOM_CHAR}]+(?:\\.[${DOT_ATOM_CHAR}]+)*$`);

/**
 * The domain half: `((L|L M* L)\.)+(A|A M* A)\.?`. Because M contains the dot, that language is
 * exactly: optional trailing dot removed, the rest is all M, starts with L, ends with A, and has
 * some dot with an L before it and an A after it.
 */
function isDomain(domain: string): boolean {
  const candidates = domain.endsWith('.') ? [domain, domain.slice(0, -1)] : [domain];
  return candidates.some((d) => {
    const n = d.length;
    if (n < 3 || !isLabelEnd(d.charCodeAt(0)) || !isTldEnd(d.charCodeAt(n - 1))) {
      return false;
    }
    let split = false;
    for (let i = 0; i < n; i++) {
      const c = d.charCodeAt(i);
      if (!isLabelMiddle(c)) {
        return false;
      }
      if (
        c === 0x2e &&
        i > 0 &&
        i < n - 1 &&
        isLabelEnd(d.charCodeAt(i - 1)) &&
        isTldEnd(d.charCodeAt(i + 1))
      ) {
        split = true;
      }
    }
    return split;
  });
}

/** qtext: `[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]|\x21|[\x23-\x5b]|[\x5d-\x7e]|U` */
function isQText(c: number): boolean {
  return (
    (c >= 0x01 && c <= 0x08) ||
    c === 0x0b ||
    c === 0x0c ||
    (c >= 0x0e && c <= 0x1f) ||
    c === 0x7f ||
    c === 0x21 ||
    (c >= 0x23 && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e) ||
    isWide(c)
  );
}

/**
 * Second character of govalidator's "quoted pair". Its pattern writes `\\(` where RFC 5322 has a
 * backslash, so the pair it accepts is `(` followed by `[\x01-\x09\x0b\x0c\x0d-\x7f]`.
 */
function isPairChar(c: number): boolean {
  return (c >= 0x01 && c <= 0x09) || c === 0x0b || c === 0x0c || (c >= 0x0d && c <= 0x7f);
}

function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** End positions of every FWS `([ \t]* \r\n)? [ \t]+` that starts at `from`. */
function fwsEnds(s: string, from: number): number[] {
  const ends: number[] = [];
  let i = from;
  while (i < s.length && isWsp(s.charCodeAt(i))) {
    i++;
    ends.push(i);
  }
  if (s.charCodeAt(i) === 0x0d && s.charCodeAt(i + 1) === 0x0a) {
    i += 2;
    while (i < s.length && isWsp(s.charCodeAt(i))) {
      i++;
      ends.push(i);
    }
  }
  return ends;
}

/**
 * Index of the closing quote of every "quoted" local part at the start of `s`.
 *
 * govalidator's parentheses put the repetition around the opening quote, so the language it
 * really accepts is `( " FWS? (qtext | pair) )* FWS? "` (e.g. `"a"b"` and a lone `"` both pass,
 * `"a b"` does not). Scanned forward over unit boundaries; each boundary starts with a quote and
 * the whitespace runs after distinct quotes are disjoint, so the scan is linear.
 */
function quotedLocalEnds(s: string): number[] {
  const n = s.length;
  const boundary = new Uint8Array(n + 2);
  const ends: number[] = [];
  boundary[0] = 1;
  for (let i = 0; i < n; i++) {
    if (!boundary[i] || s.charCodeAt(i) !== 0x22) {
      continue;
    }
    // The quote at i closes the local part (FWS? then quote: a quote right here, no FWS)…
    ends.push(i);
    // …or opens a unit: FWS? then one token.
    for (const p of [i + 1, ...fwsEnds(s, i + 1)]) {
      const c = s.charCodeAt(p);
      if (isQText(c)) {
        boundary[p + 1] = 1;
      }
      if (c === 0x28 && p + 1 < n && isPairChar(s.charCodeAt(p + 1))) {
        boundary[p + 2] = 1;
      }
    }
  }
  // Closing quotes preceded by FWS from a boundary.
  for (let i = 0; i < n; i++) {
    if (boundary[i]) {
      for (const q of fwsEnds(s, i)) {
        if (s.charCodeAt(q) === 0x22) {
          ends.push(q);
        }
      }
    }
  }
  return ends;
}

/** `govalidator.IsEmail` */
export function isEmail(s: string): boolean {
  const at = s.indexOf('@');
  if (at > 0 && DOT_ATOM.test(s.slice(0, at)) && isDomain(s.slice(at + 1))) {
    return true;
  }
  if (s.charCodeAt(0) !== 0x22) {
    return false;
  }
  return quotedLocalEnds(s).some((end) => s[end + 1] === '@' && isDomain(s.slice(end + 2)));
}

/**
 * Timestamps as Notifuse's stack handles them: Go's `time.Parse(time.RFC3339, s)` on input,
 * PostgreSQL TIMESTAMPTZ storage (microsecond precision, an instant with no zone), and Go's JSON
 * encoding (`RFC3339Nano`, trailing zeros trimmed) on output, in UTC.
 *
 * A timestamp is held as a bigint count of microseconds since the Unix epoch.
 */

export type Micros = bigint;

const LAYOUT = '2006-01-02T15:04:05Z07:00';
const MICROS_PER_SECOND = 1_000_000n;

/**
 * RFC 3339's elements up to the seconds, in order: a literal, or a number (its text in Go's
 * layout, its digits, and the range Go checks as soon as it is read).
 */
const ELEMENTS: ReadonlyArray<
  | string
  | { elem: string; digits: RegExp; range?: readonly [name: string, min: number, max: number] }
> = [
  { elem: '2006', digits: /^\d{4}/ },
  '-',
  { elem: '01', digits: /^\d{2}/, range: ['month', 1, 12] },
  '-',
  { elem: '02', digits: /^\d{2}/ },
  'T',
  { elem: '15', digits: /^\d{1,2}/, range: ['hour', 0, 23] },
  ':',
  { elem: '04', digits: /^\d{2}/, range: ['minute', 0, 59] },
  ':',
  { elem: '05', digits: /^\d{2}/, range: ['second', 0, 59] },
];

export type ParsedTime = { ok: true; micros: Micros } | { ok: false; error: string };

interface Cursor {
  rest: string;
}

function daysIn(month: number, year: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * `time.Parse(time.RFC3339, value)`, with Go's error texts: `parsing time "v" as "layout": cannot
 * parse "rest" as "elem"`, `parsing time "v": month out of range`, `… extra text: "x"`.
 * Like Go's general parser it accepts a one-digit hour and `,` before fractional seconds.
 */
export function parseRfc3339(value: string): ParsedTime {
  const q = JSON.stringify(value);
  const cannot = (cur: Cursor, elem: string): ParsedTime => ({
    ok: false,
    error: `parsing time ${q} as "${LAYOUT}": cannot parse ${JSON.stringify(cur.rest)} as "${elem}"`,
  });
  const outOfRange = (what: string): ParsedTime => ({
    ok: false,
    error: `parsing time ${q}: ${what} out of range`,
  });
  const take = (cur: Cursor, re: RegExp): string | undefined => {
    const m = re.exec(cur.rest);
    if (!m) {
      return undefined;
    }
    cur.rest = cur.rest.slice(m[0].length);
    return m[0];
  };
  const literal = (cur: Cursor, lit: string): boolean =>
    take(cur, new RegExp(`^${lit}`)) !== undefined;

  const cur: Cursor = { rest: value };
  const numbers: number[] = [];
  for (const el of ELEMENTS) {
    if (typeof el === 'string') {
      if (!literal(cur, el)) {
        return cannot(cur, el);
      }
      continue;
    }
    const text = take(cur, el.digits);
    if (text === undefined) {
      return cannot(cur, el.elem);
    }
    const n = Number(text);
    if (el.range && (n < el.range[1] || n > el.range[2])) {
      return outOfRange(el.range[0]);
    }
    numbers.push(n);
  }
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = numbers;
  // Go keeps at most nine fractional digits; PostgreSQL then rounds to microseconds.
  const fraction = take(cur, /^[.,]\d+/);
  const nanos = fraction === undefined ? 0 : Number(fraction.slice(1, 10).padEnd(9, '0'));

  let offsetMinutes = 0;
  if (!literal(cur, 'Z')) {
    const zone = take(cur, /^[+-]\d{2}:\d{2}/);
    if (zone === undefined) {
      return cannot(cur, 'Z07:00');
    }
    const zoneHours = Number(zone.slice(1, 3));
    const zoneMinutes = Number(zone.slice(4, 6));
    if (zoneHours > 24) {
      return outOfRange('time zone offset hour');
    }
    if (zoneMinutes > 60) {
      return outOfRange('time zone offset minute');
    }
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  if (cur.rest !== '') {
    return { ok: false, error: `parsing time ${q}: extra text: ${JSON.stringify(cur.rest)}` };
  }
  if (day < 1 || day > daysIn(month, year)) {
    return outOfRange('day');
  }

  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const micros =
    BigInt(date.getTime()) * 1000n +
    BigInt(Math.round(nanos / 1000)) -
    BigInt(offsetMinutes) * 60n * MICROS_PER_SECOND;
  return { ok: true, micros };
}

/** Go's `time.Time` JSON form (RFC 3339 with up to nine fraction digits, zeros trimmed), in UTC. */
export function formatTimestamp(micros: Micros): string {
  let seconds = micros / MICROS_PER_SECOND;
  let fraction = micros % MICROS_PER_SECOND;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += MICROS_PER_SECOND;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  const whole = iso.slice(0, iso.indexOf('.'));
  const digits = fraction.toString().padStart(6, '0').replace(/0+$/, '');
  return `${whole}${digits === '' ? '' : `.${digits}`}Z`;
}

/** Current time in microseconds, strictly increasing per clock (PostgreSQL `now()` resolution). */
export function createClock(now: () => number = Date.now): () => Micros {
  let last = 0n;
  return () => {
    const current = BigInt(Math.trunc(now())) * 1000n;
    last = current > last ? current : last + 1n;
    return last;
  };
}

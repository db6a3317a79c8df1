// The HTTP Date header sets the clock only when it names a real instant in 2020..2099: impossible
// dates, wrong weekdays and dates outside the window are refused (logged once) and never set it.
import { DateHeaderClockTransport } from "../../modules/app/date-header-clock";
import { LATEST_PLAUSIBLE_MS, parseHttpDate, SettableWallClock } from "../../modules/app/wall-clock";
import type { HttpRequest, HttpResponse, HttpTransport } from "../../modules/ports";
import { assert, test } from "../harness/index";
import { RecordingLog } from "./boot-fixtures";

const refused = [
  ["31 Feb", "Tue, 31 Feb 2026 10:00:00 GMT"],
  ["30 Feb", "Mon, 30 Feb 2026 10:00:00 GMT"],
  ["29 Feb outside a leap year", "Sun, 29 Feb 2026 10:00:00 GMT"],
  ["29 Feb 2100 (not a leap year; also past the window)", "Mon, 29 Feb 2100 10:00:00 GMT"],
  ["31 Apr", "Fri, 31 Apr 2026 10:00:00 GMT"],
  ["31 Jun", "Wed, 31 Jun 2026 10:00:00 GMT"],
  ["31 Sep", "Thu, 31 Sep 2026 10:00:00 GMT"],
  ["31 Nov", "Tue, 31 Nov 2026 10:00:00 GMT"],
  ["day 0", "Sun, 00 Mar 2026 10:00:00 GMT"],
  ["day 32", "Wed, 32 Jan 2026 10:00:00 GMT"],
  ["hour 24", "Sat, 21 Nov 2026 24:00:00 GMT"],
  ["minute 60", "Sat, 21 Nov 2026 10:60:00 GMT"],
  ["second 61", "Sat, 21 Nov 2026 10:31:61 GMT"],
  ["year 9999", "Fri, 31 Dec 9999 23:59:59 GMT"],
  ["year 2100", "Fri, 01 Jan 2100 00:00:00 GMT"],
  ["year 2019", "Tue, 31 Dec 2019 23:59:59 GMT"],
  ["year 1970", "Thu, 01 Jan 1970 00:00:05 GMT"],
  ["year 0000", "Sat, 01 Jan 0000 00:00:00 GMT"],
  ["wrong weekday", "Mon, 21 Nov 2026 10:31:27 GMT"],
  ["unknown weekday", "Xyz, 21 Nov 2026 10:31:27 GMT"],
  ["unknown month", "Sat, 21 Nox 2026 10:31:27 GMT"],
  ["not GMT", "Sat, 21 Nov 2026 10:31:27 UTC"],
  ["5-digit year", "Sat, 21 Nov 12026 10:31:27 GMT"],
  ["a NUL inside", "Sat, 21 Nov 2026\u0000 10:31:27 GMT"],
  ["very long", `Sat, 21 Nov 2026 10:31:27 GMT${" ".repeat(100)}`],
] as const;

for (const [name, text] of refused) {
  test(`date header: ${name} is not a date`, () => {
    assert.ok(Number.isNaN(parseHttpDate(text)), text);
  });
}

test("date header: real instants across the window parse exactly, leap days included", () => {
  const cases: [string, number][] = [
    ["Sat, 21 Nov 2026 10:31:27 GMT", Date.UTC(2026, 10, 21, 10, 31, 27)],
    ["Thu, 29 Feb 2024 23:59:59 GMT", Date.UTC(2024, 1, 29, 23, 59, 59)],
    ["Wed, 01 Jan 2020 00:00:00 GMT", Date.UTC(2020, 0, 1)],
    ["Thu, 31 Dec 2099 23:59:59 GMT", Date.UTC(2099, 11, 31, 23, 59, 59)],
    ["Tue, 29 Feb 2000 00:00:00 GMT", Number.NaN], // a real leap day, but before the window
    ["sat, 21 nov 2026 10:31:27 GMT", Date.UTC(2026, 10, 21, 10, 31, 27)],
  ];
  const names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  // One-digit day and surrounding spaces; the weekday from the engine's calendar.
  cases.push([
    `  ${names[new Date(Date.UTC(2025, 10, 1)).getUTCDay()]}, 1 Nov 2025 00:00:00 GMT  `,
    Date.UTC(2025, 10, 1),
  ]);
  for (const [text, want] of cases) {
    const got = parseHttpDate(text);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), text);
    else assert.equal(got, want, text);
  }
  // Every day of 2020..2099 at noon parses with its true weekday and not with the next one.
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  let days = 0;
  for (let t = Date.UTC(2020, 0, 1, 12); t < Date.UTC(2100, 0, 1); t += 86_400_000) {
    const d = new Date(t);
    const dd = String(d.getUTCDate()).padStart(2, "0");
    const rest = `${dd} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} 12:00:00 GMT`;
    assert.equal(parseHttpDate(`${names[d.getUTCDay()]}, ${rest}`), t);
    assert.ok(Number.isNaN(parseHttpDate(`${names[(d.getUTCDay() + 1) % 7]}, ${rest}`)));
    days++;
  }
  assert.equal(days, 29_220);
});

test("date header: the clock refuses instants from 2100 on, whatever sets it", () => {
  const clock = new SettableWallClock(() => 5);
  assert.equal(clock.set(LATEST_PLAUSIBLE_MS, "test"), false);
  assert.equal(clock.set(Date.UTC(9999, 11, 31), "test"), false);
  assert.equal(clock.set(Number.POSITIVE_INFINITY, "test"), false);
  assert.equal(clock.set(Number.NaN, "test"), false);
  assert.ok(!clock.valid);
  assert.equal(clock.set(LATEST_PLAUSIBLE_MS - 1, "test"), true);
});

test("date header: impossible dates never set the clock; refusal is logged once; a real one then sets it", async () => {
  const clock = new SettableWallClock(() => 1000);
  const headers = [...refused.map(([, text]) => text), "Sat, 21 Nov 2026 10:31:27 GMT"];
  const inner: HttpTransport = {
    request: (_request: HttpRequest): Promise<HttpResponse> =>
      Promise.resolve({ status: 200, headers: { date: headers.shift()! }, body: new Uint8Array(0) }),
    close() {},
  };
  const log = new RecordingLog();
  const transport = new DateHeaderClockTransport(inner, clock, log);
  const request = {
    path: "/x",
    headers: {},
    body: new Uint8Array(0),
    timeoutMs: 1000,
    maxResponseBytes: 100,
  };
  for (let i = 0; i < refused.length; i++) {
    await transport.request(request);
    assert.ok(!clock.valid, `set by ${refused[i]![1]}`);
  }
  assert.equal(log.lines.length, 1, log.lines.join(" | "));
  assert.ok(log.has("W", /Date header "Tue, 31 Feb 2026 10:00:00 GMT" is not a real date in 2020..2099/));
  await transport.request(request);
  assert.equal(clock.wall(), Date.UTC(2026, 10, 21, 10, 31, 27) + 500);
});

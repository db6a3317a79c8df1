// parseMachineConfig is total: any JSON value, and any other value given to it, yields settings and
// issues, never a throw (fast-check over random and adversarial JSON; runs in the Node and XS lanes).

import {
  MAX_COLLECTORS,
  MAX_TAGS,
  MAX_UPLOAD_BUDGET_KB,
  MIN_UPLOAD_BUDGET_KB,
} from "../../modules/config/limits";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { type CaptureSettings, describeIssue } from "../../modules/config/settings";
import { assert, test } from "../harness/index";
import { fc } from "../support/fast-check";

/** Nested `depth` levels deep, built without recursion (the value itself is the attack). */
function nested(depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

const HOSTILE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "toJSON",
  "hasOwnProperty",
];

/** Numbers JSON cannot carry but a decoded protobuf Struct can. */
const specialNumber = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  1e308,
  -1e308,
  5e-324,
  2 ** 53 + 2,
  0x7fffffff,
);

const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  specialNumber,
  fc.string({ maxLength: 20 }),
  fc.constantFrom(...HOSTILE_KEYS),
  fc.constantFrom("Readings", "Analogs", "Gpios", "data_manager", "rdk:service:data_manager"),
);

const key = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(...HOSTILE_KEYS),
  fc.constantFrom(
    "services",
    "components",
    "attributes",
    "service_configs",
    "capture_methods",
    "method",
    "capture_frequency_hz",
    "cache_size_kb",
    "flash_sectors",
    "tags",
    "name",
    "api",
    "type",
    "model",
    "additional_params",
    "upload_budget_kb",
  ),
);

/** Random JSON-shaped values whose keys are often the ones the parser reads. */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("json"), { maxLength: 6 }),
    fc.dictionary(key, tie("json"), { maxKeys: 6 }),
  ),
}));

/** A Viam-shaped config with random values in every slot the parser reads. */
const shaped = fc.record({
  services: fc.oneof(
    json,
    fc.array(
      fc.record({
        name: json,
        api: fc.constant("rdk:service:data_manager"),
        attributes: fc.oneof(json, fc.dictionary(key, json)),
      }),
      { maxLength: 3 },
    ),
  ),
  components: fc.oneof(
    json,
    fc.array(
      fc.record({
        name: fc.oneof(json, fc.constantFrom("a", "b", "imu")),
        api: fc.oneof(json, fc.constantFrom("rdk:component:sensor", "rdk:component:board")),
        model: fc.oneof(json, fc.constant("fake")),
        attributes: json,
        service_configs: fc.oneof(
          json,
          fc.array(
            fc.record({
              type: fc.constant("data_manager"),
              attributes: fc.record({
                capture_methods: fc.oneof(
                  json,
                  fc.array(
                    fc.record({
                      method: fc.oneof(json, fc.constantFrom("Readings", "Analogs", "Gpios")),
                      capture_frequency_hz: fc.oneof(json, specialNumber, fc.double()),
                      cache_size_kb: fc.oneof(json, specialNumber),
                      flash_sectors: fc.oneof(json, specialNumber, fc.integer()),
                      additional_params: json,
                    }),
                    { maxLength: 4 },
                  ),
                ),
              }),
            }),
            { maxLength: 2 },
          ),
        ),
      }),
      { maxLength: 4 },
    ),
  ),
});

/** What every result must satisfy, whatever the input. */
function checkResult(input: unknown, s: CaptureSettings): void {
  assert.ok(Array.isArray(s.issues) && Array.isArray(s.collectors) && Array.isArray(s.components));
  for (const issue of s.issues) {
    assert.ok(issue.severity === "error" || issue.severity === "warning");
    assert.equal(typeof issue.message, "string");
    // Messages stay short whatever the input: a bad value is shown in at most 60 characters.
    assert.ok(describeIssue(issue).length < 600, `issue of ${describeIssue(issue).length} characters`);
  }
  assert.ok(s.collectors.length <= MAX_COLLECTORS);
  const dm = s.dataManager;
  assert.ok(Number.isInteger(dm.uploadBudgetKb));
  assert.ok(dm.uploadBudgetKb >= MIN_UPLOAD_BUDGET_KB && dm.uploadBudgetKb <= MAX_UPLOAD_BUDGET_KB);
  assert.ok(Number.isFinite(dm.syncIntervalMins) && dm.syncIntervalMins > 0);
  assert.ok(dm.tags.length <= MAX_TAGS);
  for (const c of s.collectors) {
    assert.ok(Number.isFinite(c.frequencyHz) && c.frequencyHz > 0, `frequency ${c.frequencyHz}`);
    assert.ok(Number.isInteger(c.flashSectors) && c.flashSectors >= 2 && c.flashSectors <= 4096);
    assert.equal(typeof c.key, "string");
  }
  void input;
}

function parseChecked(input: unknown): CaptureSettings {
  let s: CaptureSettings | undefined;
  try {
    s = parseMachineConfig(input);
  } catch (error) {
    assert.ok(false, `parseMachineConfig threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
  checkResult(input, s!);
  return s!;
}

test("config total: random JSON values never throw and give bounded settings", () => {
  fc.assert(
    fc.property(json, (value) => {
      parseChecked(value);
    }),
    { numRuns: 300, seed: 12 },
  );
});

test("config total: Viam-shaped configs with random values in every slot", () => {
  fc.assert(
    fc.property(shaped, (value) => {
      parseChecked(value);
      // The same value after a JSON round trip (what the cache and the network deliver).
      const text = JSON.stringify(value);
      if (text !== undefined) parseChecked(JSON.parse(text));
    }),
    { numRuns: 300, seed: 34 },
  );
});

test("config total: a random value buried at a random depth in a random slot", () => {
  const slots: ((v: unknown) => unknown)[] = [
    (v) => v,
    (v) => ({ components: [{ name: v }] }),
    (v) => ({ services: [{ api: "rdk:service:data_manager", attributes: { tags: v, ring_sectors: v } }] }),
    (v) => ({
      components: [
        {
          name: "b",
          api: "rdk:component:board",
          model: "fake",
          attributes: { x: v },
          service_configs: [
            {
              type: "data_manager",
              attributes: {
                capture_methods: [{ method: "Analogs", capture_frequency_hz: v, additional_params: v }],
              },
            },
          ],
        },
      ],
    }),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 2000, max: 30_000 }),
      fc.boolean(),
      json,
      fc.nat(slots.length - 1),
      (depth, asArray, value, slot) => {
        const deep = nested(depth, value, asArray ? (v) => [v] : (v) => ({ k: v }));
        parseChecked(slots[slot]!(deep));
      },
    ),
    { numRuns: 60, seed: 56 },
  );
});

test("config total: deep nesting in every slot the parser reads or prints", () => {
  const deepArray = nested(50_000, 1, (v) => [v]);
  const deepObject = nested(50_000, 1, (v) => ({ a: v }));
  for (const deep of [deepArray, deepObject]) {
    const slots: unknown[] = [
      deep,
      { services: deep },
      { services: [deep] },
      { services: [{ api: "rdk:service:data_manager", name: deep, attributes: deep }] },
      {
        services: [{ api: "rdk:service:data_manager", attributes: { sync_interval_mins: deep, tags: deep } }],
      },
      { services: [{ api: "rdk:service:data_manager", attributes: { tags: [deep] } }] },
      { components: deep },
      { components: [{ name: deep }] },
      { components: [{ name: "a", api: deep, service_configs: [{ type: "data_manager" }] }] },
      {
        components: [
          {
            name: "a",
            api: "rdk:component:sensor",
            model: deep,
            service_configs: [{ type: "data_manager" }],
          },
        ],
      },
      {
        components: [
          {
            name: "a",
            api: "rdk:component:sensor",
            model: "fake",
            attributes: { x: deep },
            service_configs: [
              {
                type: "data_manager",
                attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
              },
            ],
          },
        ],
      },
      {
        components: [
          {
            name: "a",
            api: "rdk:component:board",
            model: "fake",
            service_configs: [
              {
                type: "data_manager",
                attributes: {
                  capture_methods: [
                    { method: deep },
                    { method: "Analogs", capture_frequency_hz: deep },
                    { method: "Analogs", capture_frequency_hz: 1, additional_params: deep },
                    { method: "Analogs", capture_frequency_hz: 1, additional_params: { reader_name: deep } },
                    {
                      method: "Gpios",
                      capture_frequency_hz: 1,
                      additional_params: { pin_name: "p" },
                      cache_size_kb: deep,
                    },
                    {
                      method: "Gpios",
                      capture_frequency_hz: 1,
                      additional_params: { pin_name: "q" },
                      flash_sectors: deep,
                    },
                    {
                      method: "Gpios",
                      capture_frequency_hz: 1,
                      additional_params: { pin_name: "r" },
                      batch_bytes: deep,
                    },
                    {
                      method: "Gpios",
                      capture_frequency_hz: 1,
                      additional_params: { pin_name: "s" },
                      disabled: deep,
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ];
    for (const [index, slot] of slots.entries()) {
      const s = parseChecked(slot);
      // A deep object where an object may stand (the whole config, a service of another type) is simply
      // not a data_manager: nothing to report. Everywhere else it is an issue.
      if (Array.isArray(deep) || (index !== 0 && index !== 2))
        assert.ok(s.issues.length > 0, `slot ${index}: a deep value is an issue`);
      assert.ok(s.issues.every((i) => describeIssue(i).length < 400));
    }
  }
});

test("config total: huge lists, long strings and hostile keys are bounded issues", () => {
  const big = new Array(200_000).fill({ name: "x" });
  const s = parseChecked({ services: big, components: big });
  assert.ok(s.issues.length < 200, `${s.issues.length} issues for 400 000 entries`);
  const long = "x".repeat(1_000_000);
  const t = parseChecked({
    services: [{ api: "rdk:service:data_manager", name: long, attributes: { [long]: 1, tags: [long] } }],
    components: [{ name: long, api: long, model: long }],
  });
  for (const issue of t.issues) assert.ok(describeIssue(issue).length < 400);
  const hostile = parseChecked(
    JSON.parse(
      '{"__proto__": {"services": 1}, "constructor": 2, "components": [{"name": "a", "api": "rdk:component:sensor", "model": "fake", "__proto__": {"service_configs": 3}, "service_configs": [{"type": "data_manager", "attributes": {"capture_methods": [{"method": "Readings", "capture_frequency_hz": 1, "__proto__": null, "additional_params": {"constructor": "x"}}]}}]}], "services": [{"api": "rdk:service:data_manager", "attributes": {"__proto__": 5, "toString": 6}}]}',
    ),
  );
  assert.deepEqual(
    hostile.collectors.map((c) => [c.key, c.additionalParams.constructor]),
    [["rdk:component:sensor/a/Readings", "x"]],
  );
  assert.equal(({} as Record<string, unknown>).services, undefined, "Object.prototype untouched");
  // Unknown data_manager attributes: a bounded number of warnings, however many there are.
  const many: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) many[`k${i}`] = i;
  const u = parseChecked({ services: [{ api: "rdk:service:data_manager", attributes: many }] });
  assert.ok(u.issues.length <= 9, `${u.issues.length} warnings`);
  assert.ok(/9992 more data_manager attributes/.test(u.issues.at(-1)!.message));
});

test("config total: values JSON cannot produce (getters, proxies, symbols, functions) give issues, not throws", () => {
  const throwing = {
    get services(): unknown {
      throw new RangeError("getter");
    },
  };
  const proxy = new Proxy(
    {},
    {
      get() {
        throw new TypeError("trap");
      },
      ownKeys() {
        throw new TypeError("keys");
      },
    },
  );
  const nastyError = {
    get components(): unknown {
      throw {
        get message() {
          throw new Error("again");
        },
      };
    },
  };
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  const inputs: unknown[] = [
    throwing,
    proxy,
    nastyError,
    Symbol("s"),
    () => 1,
    10n,
    { components: [{ name: cyclic }] },
    {
      components: [
        {
          name: "a",
          api: "rdk:component:sensor",
          model: "m",
          attributes: cyclic,
          service_configs: [{ type: "data_manager" }],
        },
      ],
    },
    {
      services: [
        { api: "rdk:service:data_manager", attributes: { sync_interval_mins: 10n, tags: [Symbol("t")] } },
      ],
    },
    {
      components: [
        {
          name: {
            toString: () => {
              throw new Error("x");
            },
            toJSON: () => {
              throw new Error("y");
            },
          },
        },
      ],
    },
  ];
  for (const input of inputs) {
    const s = parseChecked(input);
    assert.ok(s.issues.length > 0);
  }
  const read = parseChecked(throwing);
  assert.ok(/could not be read \(getter\)/.test(read.issues[0]!.message), read.issues[0]!.message);
});

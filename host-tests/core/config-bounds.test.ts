// Every number, string and list of the machine config has a documented bound (modules/config/limits.ts,
// docs/config.md "Bounds"): a value beyond it is a config issue for that entry alone, and an explicit ring
// too large for the partition does not squeeze the other rings.
import {
  DEFAULT_UPLOAD_BUDGET_KB,
  MAX_CAPTURE_FREQUENCY_HZ,
  MAX_CAPTURE_METHODS,
  MAX_COLLECTORS,
  MAX_COMPONENTS,
  MAX_RING_SECTORS,
  MAX_TAGS,
  MAX_UPLOAD_BUDGET_KB,
} from "../../modules/config/limits";
import { parseMachineConfig } from "../../modules/config/machine-config";
import { DATA_MANAGER_DEFAULTS, describeIssue, uploadBudgetBytes } from "../../modules/config/settings";
import { syncSettingsFrom } from "../../modules/manager/data-manager";
import { NorImage } from "../../modules/storage/nor-image";
import { type FlashRingStore, openRingStore } from "../../modules/storage/ring-store";
import { assert, test } from "../harness/index";
import { CaptureRig, type ComponentEntry, MemoryKv } from "../support/sensors-rig";

function config(methods: unknown[], dmAttributes: Record<string, unknown> = {}, dutName = "dut") {
  return {
    services: [{ name: "data", api: "rdk:service:data_manager", model: "builtin", attributes: dmAttributes }],
    components: [
      {
        name: "good",
        api: "rdk:component:sensor",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
          },
        ],
      },
      {
        name: dutName,
        api: "rdk:component:board",
        model: "fake",
        service_configs: [{ type: "data_manager", attributes: { capture_methods: methods } }],
      },
    ],
  };
}

const gpio = (extra: Record<string, unknown>) => ({
  method: "Gpios",
  capture_frequency_hz: 1,
  additional_params: { pin_name: "p" },
  ...extra,
});

// Each row is one out-of-bound value in one capture method: one error naming component and method.
const methodRows: { name: string; entry: Record<string, unknown>; error: RegExp }[] = [
  {
    name: "cache_size_kb 1e308",
    entry: gpio({ cache_size_kb: 1e308 }),
    error: /cache_size_kb .*at most 16384/,
  },
  { name: "cache_size_kb just over", entry: gpio({ cache_size_kb: 16385 }), error: /cache_size_kb/ },
  { name: "flash_sectors 1e21", entry: gpio({ flash_sectors: 1e21 }), error: /flash_sectors .* to 4096/ },
  { name: "flash_sectors 100000", entry: gpio({ flash_sectors: 100000 }), error: /flash_sectors .* to 4096/ },
  {
    name: "flash_sectors one past the max",
    entry: gpio({ flash_sectors: MAX_RING_SECTORS + 1 }),
    error: /flash_sectors/,
  },
  {
    name: "capture_frequency_hz beyond the max",
    entry: gpio({ capture_frequency_hz: MAX_CAPTURE_FREQUENCY_HZ * 1.5 }),
    error: /capture_frequency_hz must be a number from 0.000001 to 10000/,
  },
  {
    name: "capture_frequency_hz 1e308",
    entry: gpio({ capture_frequency_hz: 1e308 }),
    error: /capture_frequency_hz/,
  },
  {
    name: "capture_frequency_hz 5e-324",
    entry: gpio({ capture_frequency_hz: 5e-324 }),
    error: /capture_frequency_hz/,
  },
  {
    name: "pin_name longer than 64",
    entry: gpio({ additional_params: { pin_name: "p".repeat(65) } }),
    error: /pin_name .* is not a valid name/,
  },
  {
    name: "a parameter longer than 256",
    entry: gpio({ additional_params: { pin_name: "p", note: "n".repeat(257) } }),
    error: /additional_params.note must be a string of at most 256/,
  },
  {
    name: "17 additional params",
    entry: gpio({
      additional_params: Object.fromEntries([
        ["pin_name", "p"],
        ...Array.from({ length: 16 }, (_, i) => [`k${i}`, "v"]),
      ]),
    }),
    error: /more than 16 entries/,
  },
  {
    name: "__proto__ parameter",
    entry: gpio({ additional_params: JSON.parse('{"pin_name": "p", "__proto__": "x"}') }),
    error: /key "__proto__" is not allowed/,
  },
];

for (const row of methodRows) {
  test(`config bounds: ${row.name} is an issue for that method alone`, () => {
    const valid = { method: "Analogs", capture_frequency_hz: 3, additional_params: { reader_name: "ok" } };
    const s = parseMachineConfig(config([row.entry, valid]));
    const errors = s.issues.filter((i) => i.severity === "error");
    assert.equal(errors.length, 1, `issues: ${s.issues.map(describeIssue).join(" | ")}`);
    assert.equal(errors[0]!.component, "dut");
    assert.equal(errors[0]!.method, "Gpios");
    assert.ok(row.error.test(errors[0]!.message), errors[0]!.message);
    assert.deepEqual(
      s.collectors.map((c) => c.key),
      ["rdk:component:sensor/good/Readings", "rdk:component:board/dut/Analogs/ok"],
    );
  });
}

test("config bounds: the largest allowed values are accepted", () => {
  const s = parseMachineConfig(
    config(
      [
        gpio({ flash_sectors: MAX_RING_SECTORS, capture_frequency_hz: MAX_CAPTURE_FREQUENCY_HZ }),
        {
          method: "Analogs",
          capture_frequency_hz: 1e-6,
          cache_size_kb: 16384,
          additional_params: { reader_name: "r".repeat(64) },
        },
      ],
      {
        upload_budget_kb: MAX_UPLOAD_BUDGET_KB,
        sync_interval_mins: 10080,
        flush_interval_secs: 3600,
        config_poll_interval_mins: 1440,
        erase_stall_ms: 1000,
        ring_sectors: MAX_RING_SECTORS,
        tags: Array.from({ length: MAX_TAGS }, (_, i) => `${i}`.padEnd(64, "t")),
      },
    ),
  );
  assert.deepEqual(s.issues, []);
  assert.deepEqual(
    s.collectors.map((c) => c.flashSectors),
    [MAX_RING_SECTORS, MAX_RING_SECTORS, 4096],
  );
  assert.equal(s.dataManager.uploadBudgetKb, 32);
  assert.equal(s.dataManager.tags.length, MAX_TAGS);
});

// data_manager attributes: an out-of-bound value keeps the default, with an error naming the attribute.
const dmRows: [string, unknown][] = [
  ["sync_interval_mins", 1e308],
  ["sync_interval_mins", 10081],
  ["sync_interval_mins", 1e-9],
  ["flush_interval_secs", 1e9],
  ["flush_interval_secs", 0.001],
  ["config_poll_interval_mins", 1e7],
  ["erase_stall_ms", 1e6],
  ["erase_stall_ms", 0],
  ["ring_sectors", 100000],
  ["ring_sectors", 1e21],
  ["upload_budget_kb", 33],
  ["upload_budget_kb", 64],
  ["upload_budget_kb", 1e308],
  ["upload_budget_kb", 0.5],
  ["upload_budget_kb", 16.5],
  ["tags", Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`)],
  ["tags", ["x".repeat(65)]],
  ["tags", [""]],
];

for (const [attribute, value] of dmRows) {
  const shown = Array.isArray(value)
    ? `${value.length} tags, the first ${value[0].length} long`
    : String(value);
  test(`config bounds: data_manager ${attribute} = ${shown} keeps the default with an error`, () => {
    const s = parseMachineConfig(config([], { [attribute]: value }));
    const errors = s.issues.filter((i) => i.severity === "error");
    assert.equal(errors.length, 1, s.issues.map(describeIssue).join(" | "));
    assert.ok(errors[0]!.message.includes(`data_manager attribute ${attribute} must be`), errors[0]!.message);
    assert.ok(errors[0]!.message.endsWith("default kept"));
    assert.deepEqual({ ...s.dataManager, name: "" }, { ...DATA_MANAGER_DEFAULTS, tags: [] });
  });
}

test("config bounds: upload_budget_kb defaults to 16 KB, takes 1..32, and flows to the sync settings", () => {
  assert.equal(DEFAULT_UPLOAD_BUDGET_KB, 16);
  assert.equal(MAX_UPLOAD_BUDGET_KB, 32);
  const byDefault = parseMachineConfig(config([])).dataManager;
  assert.equal(byDefault.uploadBudgetKb, DEFAULT_UPLOAD_BUDGET_KB);
  assert.equal(uploadBudgetBytes(byDefault), 16 * 1024);
  assert.equal(syncSettingsFrom(byDefault).requestBudgetBytes, 16 * 1024);
  for (const kb of [1, 8, 32]) {
    const dm = parseMachineConfig(config([], { upload_budget_kb: kb })).dataManager;
    assert.equal(syncSettingsFrom(dm).requestBudgetBytes, kb * 1024);
  }
  // Beyond the max: the default, not the max and not the bad value, reaches sync.
  const tooLarge = parseMachineConfig(config([], { upload_budget_kb: 64 })).dataManager;
  assert.equal(syncSettingsFrom(tooLarge).requestBudgetBytes, 16 * 1024);
});

test("config bounds: names, models and attributes beyond their bounds drop only their component", () => {
  const capture = [
    {
      type: "data_manager",
      attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
    },
  ];
  let deep: unknown = 1;
  for (let i = 0; i < 20; i++) deep = { d: deep };
  const s = parseMachineConfig({
    components: [
      { name: "n".repeat(65), api: "rdk:component:sensor", model: "fake", service_configs: capture },
      { name: "model", api: "rdk:component:sensor", model: "m".repeat(129), service_configs: capture },
      {
        name: "deep",
        api: "rdk:component:sensor",
        model: "fake",
        attributes: deep,
        service_configs: capture,
      },
      {
        name: "wide",
        api: "rdk:component:sensor",
        model: "fake",
        attributes: { list: Array.from({ length: 300 }, (_, i) => i) },
        service_configs: capture,
      },
      {
        name: "long",
        api: "rdk:component:sensor",
        model: "fake",
        attributes: { s: "s".repeat(257) },
        service_configs: capture,
      },
      {
        name: "fine",
        api: "rdk:component:sensor",
        model: "fake",
        attributes: { pins: [{ name: "a", pin: 34 }], nested: { a: { b: { c: [1, 2, "x"] } } } },
        service_configs: capture,
      },
    ],
  });
  assert.deepEqual(
    s.collectors.map((c) => c.componentName),
    ["fine"],
  );
  const messages = s.issues.map(describeIssue);
  assert.equal(messages.length, 5, messages.join(" | "));
  assert.ok(/components\[0\] has no valid name .*up to 64/.test(messages[0]!), messages[0]);
  assert.ok(/"model": model must be a non-empty string of at most 128/.test(messages[1]!), messages[1]);
  assert.ok(/"deep": attributes hold nesting deeper than 8 levels/.test(messages[2]!), messages[2]);
  assert.ok(/"wide": attributes hold more than 256 values/.test(messages[3]!), messages[3]);
  assert.ok(/"long": attributes hold a string longer than 256/.test(messages[4]!), messages[4]);
});

test("config bounds: lists beyond their bounds keep their first entries and say so", () => {
  const capture = (n: number) => [
    {
      type: "data_manager",
      attributes: {
        capture_methods: Array.from({ length: n }, (_, i) => ({
          method: "Analogs",
          capture_frequency_hz: 1,
          additional_params: { reader_name: `r${i}` },
        })),
      },
    },
  ];
  const methods = parseMachineConfig({
    components: [{ name: "b", api: "rdk:component:board", model: "fake", service_configs: capture(40) }],
  });
  assert.equal(methods.collectors.length, MAX_CAPTURE_METHODS);
  assert.equal(methods.issues.length, 1);
  assert.ok(/capture_methods has 40 entries; only the first 16 are used/.test(methods.issues[0]!.message));

  const components = parseMachineConfig({
    components: Array.from({ length: MAX_COMPONENTS + 10 }, (_, i) => ({
      name: `c${i}`,
      api: "rdk:component:board",
      model: "fake",
      service_configs: i < 3 ? capture(12) : [],
    })),
  });
  assert.equal(components.collectors.length, MAX_COLLECTORS, "36 wanted, 32 kept");
  const errors = components.issues.map((i) => i.message);
  assert.ok(errors.some((m) => /components has 74 entries; only the first 64/.test(m)));
  const over = components.issues.filter((i) => /more than 32 capture methods/.test(i.message));
  assert.equal(over.length, 4);
  assert.equal(over[0]!.component, "c2");

  // Long ring keys: the one-sector layout record fills before 32 collectors.
  const long = parseMachineConfig({
    components: [
      {
        name: "b".repeat(64),
        api: "rdk:component:board",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: Array.from({ length: 16 }, (_, i) => ({
                method: "Analogs",
                capture_frequency_hz: 1,
                additional_params: { reader_name: `${i}`.padStart(64, "r") },
              })),
            },
          },
        ],
      },
      {
        name: "c".repeat(64),
        api: "rdk:component:board",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: Array.from({ length: 16 }, (_, i) => ({
                method: "Analogs",
                capture_frequency_hz: 1,
                additional_params: { reader_name: `${i}`.padStart(64, "r") },
              })),
            },
          },
        ],
      },
    ],
  });
  const full = long.issues.filter((i) => /layout record .* has no room/.test(i.message));
  assert.ok(full.length > 0 && long.collectors.length + full.length === 32);
  let bytes = 32;
  for (const c of long.collectors) bytes += 9 + c.key.length;
  assert.ok(bytes <= 4096, `layout record of ${bytes} bytes`);
  assert.ok(bytes + 9 + long.collectors[0]!.key.length > 4096, "one more would not fit");
});

// Isolation at apply time: the partition's size is known only to the capture.
const SECTOR = 4096;
const IMU = "rdk:component:movement_sensor/imu/AngularVelocity";
const TEMPERATURE = "rdk:component:sensor/temperature/Readings";

function autoComponents(extra: ComponentEntry[] = []): ComponentEntry[] {
  return [
    {
      name: "imu",
      api: "rdk:component:movement_sensor",
      model: "fake",
      methods: [{ method: "AngularVelocity", capture_frequency_hz: 200 }],
    },
    {
      name: "temperature",
      api: "rdk:component:sensor",
      model: "fake",
      methods: [{ method: "Readings", capture_frequency_hz: 1 }],
    },
    ...extra,
  ];
}

function sizes(store: FlashRingStore): Map<string, number> {
  return new Map(store.storedLayout().map((r) => [r.key, r.sectors]));
}

test("config bounds: an explicit ring larger than the partition is reported alone and squeezes no other ring", () => {
  const fresh = () => {
    const store = openRingStore({ flash: new NorImage({ size: 2 * 1024 * 1024, sectorSize: SECTOR }) });
    return { store, rig: new CaptureRig(store, new MemoryKv()) };
  };
  const reference = fresh();
  assert.deepEqual(reference.rig.apply(autoComponents()), []);
  const expected = sizes(reference.store);
  assert.ok(expected.get(IMU)! > 100, "the IMU's automatic share is large");

  // 600 sectors is within the config's bound (4096) but more than this 510-sector partition holds.
  for (const sectors of [600, MAX_RING_SECTORS]) {
    const { store, rig } = fresh();
    const issues = rig.apply(
      autoComponents([
        {
          name: "big",
          api: "rdk:component:board",
          model: "fake",
          attributes: { analogs: ["a0"] },
          methods: [
            {
              method: "Analogs",
              capture_frequency_hz: 1,
              flash_sectors: sectors,
              additional_params: { reader_name: "a0" },
            },
          ],
        },
      ]),
    );
    const errors = issues.filter((i) => i.severity === "error");
    assert.equal(errors.length, 1, issues.map(describeIssue).join(" | "));
    assert.equal(errors[0]!.component, "big");
    assert.equal(errors[0]!.method, "Analogs");
    assert.ok(/no flash ring/.test(errors[0]!.message), errors[0]!.message);
    assert.equal(
      issues.filter((i) => i.severity === "warning").length,
      0,
      issues.map(describeIssue).join(" | "),
    );
    const got = sizes(store);
    assert.equal(got.get(IMU), expected.get(IMU), `${sectors}: the IMU keeps its share`);
    assert.equal(got.get(TEMPERATURE), expected.get(TEMPERATURE));
  }
});

test("config bounds: flash_sectors 100000 never reaches the capture", () => {
  const store = openRingStore({ flash: new NorImage({ size: 2 * 1024 * 1024, sectorSize: SECTOR }) });
  const rig = new CaptureRig(store, new MemoryKv());
  const issues = rig.apply(
    autoComponents([
      {
        name: "big",
        api: "rdk:component:board",
        model: "fake",
        attributes: { analogs: ["a0"] },
        methods: [
          {
            method: "Analogs",
            capture_frequency_hz: 1,
            flash_sectors: 100000,
            additional_params: { reader_name: "a0" },
          },
        ],
      },
    ]),
  );
  assert.equal(issues.length, 1);
  assert.ok(/flash_sectors must be an integer from 2 to 4096 \(got 100000\)/.test(issues[0]!.message));
  assert.deepEqual([...sizes(store).keys()].sort(), [IMU, TEMPERATURE]);
});

import { parseMachineConfig } from "../../modules/config/machine-config";
import { describeIssue } from "../../modules/config/settings";
import { assert, test } from "../harness/index";

const dm = { name: "data", api: "rdk:service:data_manager", model: "builtin", attributes: {} };

function withMethods(methods: unknown[], component: Record<string, unknown> = {}) {
  return {
    services: [dm],
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
        name: "dut",
        api: "rdk:component:board",
        model: "fake",
        ...component,
        service_configs: [{ type: "data_manager", attributes: { capture_methods: methods } }],
      },
    ],
  };
}

test("config: defaults of the data_manager service and Viam's type+namespace form", () => {
  const s = parseMachineConfig({
    services: [{ name: "dm", type: "data_manager", namespace: "rdk", attributes: { tags: ["a", "b"] } }],
    components: [
      {
        name: "t",
        type: "sensor",
        namespace: "rdk",
        model: "fake",
        attributes: { x: 1 },
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: [
                { method: "Readings", capture_frequency_hz: 0.5, cache_size_kb: 20, batch_bytes: 2020 },
              ],
            },
          },
        ],
      },
      {
        name: "imu",
        type: "movement_sensor",
        model: "fake",
        service_configs: [
          {
            type: "data_manager",
            attributes: {
              capture_methods: [
                { method: "AngularVelocity", capture_frequency_hz: 300 },
                { method: "CompassHeading", capture_frequency_hz: 2, disabled: true },
              ],
            },
          },
        ],
      },
      { name: "no-capture", api: "rdk:component:motor", model: "fake" },
    ],
  });
  assert.deepEqual(s.issues, []);
  assert.equal(s.dataManager.name, "dm");
  assert.equal(s.dataManager.syncIntervalMins, 0.1);
  assert.equal(s.dataManager.retainUnsyncedOnReboot, false);
  assert.deepEqual(s.dataManager.tags, ["a", "b"]);
  assert.deepEqual(
    s.components.map((c) => `${c.name} ${c.api}`),
    ["t rdk:component:sensor", "imu rdk:component:movement_sensor"],
  );
  assert.deepEqual(s.components[0]!.attributes, { x: 1 });
  assert.deepEqual(
    s.collectors.map((c) => [c.key, c.frequencyHz, c.batchBytes, c.flashSectors, c.disabled]),
    [
      ["rdk:component:sensor/t/Readings", 0.5, 2020, 5, false],
      ["rdk:component:movement_sensor/imu/AngularVelocity", 300, 1000, 8, false],
      ["rdk:component:movement_sensor/imu/CompassHeading", 2, 1000, 8, true],
    ],
  );
});

test("config: capsync's data_manager attributes parse, bad ones keep defaults with an error", () => {
  const s = parseMachineConfig({
    services: [
      {
        name: "dm",
        api: "rdk:service:data_manager",
        attributes: {
          sync_interval_mins: 2,
          sync_disabled: true,
          capture_disabled: false,
          retain_unsynced_on_reboot: true,
          upload_budget_kb: 24,
          flush_interval_secs: 2,
          config_poll_interval_mins: 5,
          ring_sectors: 4,
          erase_stall_ms: 30,
          capture_dir: "/x",
          mystery: 1,
        },
      },
    ],
  });
  const d = s.dataManager;
  assert.deepEqual(
    [
      d.syncIntervalMins,
      d.syncDisabled,
      d.retainUnsyncedOnReboot,
      d.uploadBudgetKb,
      d.flushIntervalSecs,
      d.configPollIntervalMins,
      d.ringSectors,
      d.eraseStallMs,
    ],
    [2, true, true, 24, 2, 5, 4, 30],
  );
  assert.deepEqual(
    s.issues.map((i) => i.severity),
    ["warning"],
  );
  assert.ok(s.issues[0]!.message.includes("mystery"));

  const bad = parseMachineConfig({
    services: [
      {
        name: "dm",
        api: "rdk:service:data_manager",
        attributes: {
          sync_interval_mins: 0,
          sync_disabled: "yes",
          tags: [1],
          ring_sectors: 1.5,
        },
      },
    ],
  });
  assert.equal(bad.dataManager.syncIntervalMins, 0.1);
  assert.equal(bad.dataManager.syncDisabled, false);
  assert.deepEqual(bad.dataManager.tags, []);
  assert.equal(bad.dataManager.ringSectors, 8);
  assert.equal(bad.issues.filter((i) => i.severity === "error").length, 4);
});

// Each bad entry: the error names component and method, and "good" (and the valid sibling) still run.
const table: {
  name: string;
  methods: unknown[];
  component?: Record<string, unknown>;
  error: RegExp;
  method?: string;
}[] = [
  {
    name: "unknown method",
    methods: [{ method: "Frobnicate", capture_frequency_hz: 1 }],
    error: /unknown method/,
    method: "Frobnicate",
  },
  {
    name: "method the component does not have",
    methods: [{ method: "Readings", capture_frequency_hz: 1 }],
    error: /rdk:component:board has no method Readings/,
    method: "Readings",
  },
  {
    name: "zero Hz",
    methods: [{ method: "Analogs", capture_frequency_hz: 0, additional_params: { reader_name: "a" } }],
    error: /capture_frequency_hz must be a number from 0.000001 to 10000 \(got 0\)/,
    method: "Analogs",
  },
  {
    name: "negative Hz",
    methods: [{ method: "Analogs", capture_frequency_hz: -5, additional_params: { reader_name: "a" } }],
    error: /got -5/,
    method: "Analogs",
  },
  {
    name: "non-numeric Hz",
    methods: [{ method: "Analogs", capture_frequency_hz: "10", additional_params: { reader_name: "a" } }],
    error: /got "10"/,
    method: "Analogs",
  },
  {
    name: "missing Hz",
    methods: [{ method: "Analogs", additional_params: { reader_name: "a" } }],
    error: /capture_frequency_hz/,
    method: "Analogs",
  },
  {
    name: "infinite Hz",
    methods: [
      {
        method: "Analogs",
        capture_frequency_hz: Number.POSITIVE_INFINITY,
        additional_params: { reader_name: "a" },
      },
    ],
    error: /capture_frequency_hz/,
    method: "Analogs",
  },
  {
    name: "missing reader_name",
    methods: [{ method: "Analogs", capture_frequency_hz: 1 }],
    error: /additional_params.reader_name is required/,
    method: "Analogs",
  },
  {
    name: "missing pin_name",
    methods: [{ method: "Gpios", capture_frequency_hz: 1, additional_params: {} }],
    error: /additional_params.pin_name is required/,
    method: "Gpios",
  },
  {
    name: "non-string param",
    methods: [{ method: "Gpios", capture_frequency_hz: 1, additional_params: { pin_name: 4 } }],
    error: /additional_params.pin_name must be a string/,
    method: "Gpios",
  },
  {
    name: "params not an object",
    methods: [{ method: "Gpios", capture_frequency_hz: 1, additional_params: "p4" }],
    error: /additional_params must be an object/,
    method: "Gpios",
  },
  {
    name: "disabled not boolean",
    methods: [
      { method: "Gpios", capture_frequency_hz: 1, disabled: "no", additional_params: { pin_name: "p" } },
    ],
    error: /disabled must be true or false/,
    method: "Gpios",
  },
  {
    name: "cache_size_kb wrong type",
    methods: [
      {
        method: "Gpios",
        capture_frequency_hz: 1,
        cache_size_kb: "big",
        additional_params: { pin_name: "p" },
      },
    ],
    error: /cache_size_kb/,
    method: "Gpios",
  },
  {
    name: "batch_bytes out of range",
    methods: [
      { method: "Gpios", capture_frequency_hz: 1, batch_bytes: 9000, additional_params: { pin_name: "p" } },
    ],
    error: /batch_bytes must be an integer in \[64, 4000\]/,
    method: "Gpios",
  },
  {
    name: "flash_sectors below 2",
    methods: [
      { method: "Gpios", capture_frequency_hz: 1, flash_sectors: 1, additional_params: { pin_name: "p" } },
    ],
    error: /flash_sectors must be an integer/,
    method: "Gpios",
  },
  {
    name: "cache_size_kb negative",
    methods: [
      { method: "Gpios", capture_frequency_hz: 1, cache_size_kb: -1, additional_params: { pin_name: "p" } },
    ],
    error: /cache_size_kb/,
    method: "Gpios",
  },
  {
    name: "method not a string",
    methods: [{ method: 7, capture_frequency_hz: 1 }],
    error: /method must be a non-empty string/,
  },
  { name: "entry not an object", methods: ["Analogs"], error: /capture_methods\[0\] is not an object/ },
  {
    name: "duplicate entry",
    methods: [
      { method: "Analogs", capture_frequency_hz: 1, additional_params: { reader_name: "a" } },
      { method: "Analogs", capture_frequency_hz: 2, additional_params: { reader_name: "a" } },
    ],
    error: /configured twice/,
    method: "Analogs",
  },
];

for (const row of table) {
  test(`config: bad entry (${row.name}) is reported and isolated`, () => {
    const valid = { method: "Analogs", capture_frequency_hz: 3, additional_params: { reader_name: "ok" } };
    const methods = row.name === "duplicate entry" ? row.methods : [...row.methods, valid];
    const s = parseMachineConfig(withMethods(methods, row.component));
    const errors = s.issues.filter((i) => i.severity === "error");
    assert.equal(errors.length, 1, `issues: ${s.issues.map(describeIssue).join(" | ")}`);
    const issue = errors[0]!;
    assert.equal(issue.component, "dut");
    if (row.method) assert.equal(issue.method, row.method);
    assert.ok(row.error.test(issue.message), `message: ${issue.message}`);
    assert.ok(describeIssue(issue).includes('component "dut"'));
    const keys = s.collectors.map((c) => c.key);
    assert.ok(keys.includes("rdk:component:sensor/good/Readings"), "the valid component still runs");
    assert.ok(
      keys.includes("rdk:component:board/dut/Analogs/a") ||
        keys.includes("rdk:component:board/dut/Analogs/ok"),
      "the valid sibling entry still runs",
    );
  });
}

test("config: ring size from flash_sectors, else cache_size_kb (whole sectors), else ring_sectors", () => {
  const s = parseMachineConfig(
    withMethods([
      {
        method: "Analogs",
        capture_frequency_hz: 1,
        cache_size_kb: 64,
        additional_params: { reader_name: "a" },
      },
      {
        method: "Analogs",
        capture_frequency_hz: 1,
        cache_size_kb: 1,
        additional_params: { reader_name: "b" },
      },
      {
        method: "Analogs",
        capture_frequency_hz: 1,
        cache_size_kb: 64,
        flash_sectors: 3,
        additional_params: { reader_name: "c" },
      },
      { method: "Gpios", capture_frequency_hz: 1, additional_params: { pin_name: "d" } },
    ]),
  );
  assert.deepEqual(s.issues, []);
  assert.deepEqual(
    s.collectors.filter((c) => c.componentName === "dut").map((c) => c.flashSectors),
    [16, 2, 3, 8],
  );
});

test("config: two data_manager services: the second is reported, the first is used", () => {
  const s = parseMachineConfig({
    services: [
      { name: "first", api: "rdk:service:data_manager", attributes: { sync_interval_mins: 1 } },
      { name: "second", type: "data_manager", attributes: { sync_interval_mins: 9 } },
    ],
  });
  assert.equal(s.dataManager.name, "first");
  assert.equal(s.dataManager.syncIntervalMins, 1);
  assert.equal(s.issues.length, 1);
  assert.ok(/second data_manager service "second"/.test(s.issues[0]!.message));
});

test("config: bad components are isolated (type, model, name, duplicates, wrong shapes)", () => {
  const capture = [
    {
      type: "data_manager",
      attributes: { capture_methods: [{ method: "Readings", capture_frequency_hz: 1 }] },
    },
  ];
  const s = parseMachineConfig({
    services: [dm],
    components: [
      { name: "cam", api: "rdk:component:camera", model: "webcam", service_configs: capture },
      { name: "nomodel", api: "rdk:component:sensor", service_configs: capture },
      { name: "bad/name", api: "rdk:component:sensor", model: "fake", service_configs: capture },
      { name: "ok", api: "rdk:component:sensor", model: "fake", service_configs: capture },
      { name: "ok", api: "rdk:component:sensor", model: "fake", service_configs: capture },
      {
        name: "attrs",
        api: "rdk:component:sensor",
        model: "fake",
        attributes: [1],
        service_configs: capture,
      },
      { name: "sc", api: "rdk:component:sensor", model: "fake", service_configs: { type: "data_manager" } },
      {
        name: "cm",
        api: "rdk:component:sensor",
        model: "fake",
        service_configs: [{ type: "data_manager", attributes: { capture_methods: {} } }],
      },
      42,
    ],
  });
  assert.deepEqual(
    s.collectors.map((c) => c.key),
    ["rdk:component:sensor/ok/Readings"],
  );
  assert.equal(s.issues.length, 8);
  assert.ok(s.issues.every((i) => i.severity === "error"));
  assert.ok(
    s.issues.some((i) => i.component === "cam" && /cannot capture from component type/.test(i.message)),
  );
  assert.ok(s.issues.some((i) => i.component === "nomodel" && /model/.test(i.message)));
});

test("config: garbage at the top level never throws", () => {
  for (const input of [null, 1, "x", [], { components: 5 }, { services: "x" }, { components: [null] }]) {
    const s = parseMachineConfig(input);
    assert.ok(s.issues.length > 0, `no issue for ${JSON.stringify(input)}`);
    assert.equal(s.collectors.length, 0);
  }
});

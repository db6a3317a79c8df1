/*
 * Bounds of every value the machine config can set (docs/config.md, "Bounds").
 *
 * The config comes from the network (or a flash cache of it): every number,
 * string and list in it is untrusted. A value outside its bound is a config
 * issue for that attribute or entry alone; nothing else is resized, slowed or
 * dropped because of it. Each bound is what the device can honour, not a
 * taste: the reason is beside it.
 */

/**
 * Request budget (`upload_budget_kb`): the device sizes its request buffer
 * once from it, so the largest allowed value is RAM reserved for the whole run.
 * 16 KB fits the no-PSRAM ESP32 heap beside capture and a TLS session
 * (docs/esp32.md); 32 KB is the most it can hold at all.
 */
export const DEFAULT_UPLOAD_BUDGET_KB = 16;
export const MIN_UPLOAD_BUDGET_KB = 1;
export const MAX_UPLOAD_BUDGET_KB = 32;

/**
 * Ring sizes. The layout record stores a ring's size in 16 bits, and the
 * largest ESP32 flash chip is 16 MB = 4096 sectors of 4 KB: a ring can never
 * be larger. Whether it fits the partition is known only at apply time (the
 * capture then reports the ring that does not fit, and only that one).
 */
export const MAX_RING_SECTORS = 4096;
/** `cache_size_kb` is rounded up to whole 4 KB sectors: the same ceiling in KB. */
export const MAX_CACHE_SIZE_KB = MAX_RING_SECTORS * 4;

/**
 * Capture rates. Above 1 kHz readings come from a sensor FIFO drained each
 * timer tick (docs/capture.md); 10 kHz is beyond any FIFO the drivers serve
 * (the MPU-6050 gyro's 8 kHz). Below 1e-6 Hz (one reading per 11.6 days) a
 * period no longer fits the timer's range.
 */
export const MIN_CAPTURE_FREQUENCY_HZ = 1e-6;
export const MAX_CAPTURE_FREQUENCY_HZ = 10_000;

/**
 * Durations that become timer intervals: every bound keeps the interval in
 * ms under 2^31 (a longer timer fires at once on some hosts) and above the
 * timer's 1 ms resolution.
 */
export const MIN_SYNC_INTERVAL_MINS = 0.001;
/** One week. */
export const MAX_SYNC_INTERVAL_MINS = 10_080;
export const MIN_FLUSH_INTERVAL_SECS = 0.01;
/** One hour: what a power cut can take at most. */
export const MAX_FLUSH_INTERVAL_SECS = 3600;
export const MIN_CONFIG_POLL_INTERVAL_MINS = 0.001;
/** One day. */
export const MAX_CONFIG_POLL_INTERVAL_MINS = 1440;
/** A NOR sector erase takes 400 ms at most (datasheets); 1 s is beyond any chip, 1 ms the timer's resolution. */
export const MIN_ERASE_STALL_MS = 1;
export const MAX_ERASE_STALL_MS = 1000;

/** Tags ride in every upload request's metadata: at most 1 KB of it. */
export const MAX_TAGS = 16;
export const MAX_TAG_LENGTH = 64;

/**
 * Names (component, service, reader_name / pin_name): a ring key is
 * "<api>/<name>/<Method>/<parameter>" and must stay under the store's 255
 * bytes; 64 + 64 + the longest api and method stays under 180.
 */
export const MAX_NAME_LENGTH = 64;
export const MAX_MODEL_LENGTH = 128;
export const MAX_ADDITIONAL_PARAMS = 16;
export const MAX_PARAM_LENGTH = 256;

/**
 * Lists. Each collector holds a RAM batch and a ring, and every ring key must
 * fit the one-sector layout record: 32 collectors is more than a 160 KB heap
 * can batch at the default 1 KB each.
 */
export const MAX_SERVICES = 32;
export const MAX_COMPONENTS = 64;
export const MAX_CAPTURE_METHODS = 16;
export const MAX_COLLECTORS = 32;

/**
 * A component's `attributes` object goes to its driver and is fingerprinted
 * (JSON) on every apply: its depth, node count and string lengths are bounded
 * so neither can exhaust the stack or the heap.
 */
export const MAX_ATTRIBUTE_DEPTH = 8;
export const MAX_ATTRIBUTE_NODES = 256;
export const MAX_ATTRIBUTE_STRING_LENGTH = 256;

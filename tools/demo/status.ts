/*
 * One snapshot of everything the demo shows: the terminal view, the non-TTY
 * status line and the tests all read this, never the live objects.
 */

export interface CollectorStatus {
  /** Ring key, e.g. "rdk:component:sensor/temp/Readings". */
  key: string;
  componentName: string;
  method: string;
  /** Configured capture frequency. */
  hz: number;
  disabled: boolean;
  /** Readings captured since the demo started (across device reboots). */
  captured: number;
  /** Readings in flash after the sync point (not yet acknowledged). */
  inFlash: number;
  /** Readings acknowledged by the cloud. */
  synced: number;
  /** Readings overwritten because the ring was full. */
  dropped: number;
  /** Readings lost: discarded at reboot (power cut) or corrupt. */
  lost: number;
  /** Captured but not yet in flash (RAM batch) plus in flash: still to be uploaded. */
  pending: number;
  /** Never uploadable: rejected by the cloud, undecodable, or too large alone. */
  setAside: number;
  /** Sampler deadlines that passed while the CPU was busy (no reading taken for them), across boots. */
  missed: number;
}

export interface SyncStatus {
  /** What sync is doing now, e.g. "idle", "uploading", "backoff", "disabled". */
  state: string;
  lastError: string | undefined;
  /** Wall time of the last error (NaN when none or unknown). */
  lastErrorMs: number;
  /** Current retry delay; 0 when the last attempt succeeded. */
  backoffMs: number;
  /** Wall time of the last acknowledged upload; NaN when none yet. */
  lastSuccessMs: number;
}

export interface FlashStatus {
  sizeBytes: number;
  sectorSize: number;
  /** Written space of the rings' live sectors (synced records and sector headers included), across rings. */
  usedBytes: number;
  /** Ring space holding unsynced readings, across rings: 0 once everything is synced. */
  pendingBytes: number;
  /** What the rings guarantee to keep unsynced, across rings (same measure as pendingBytes). */
  capacityBytes: number;
  /** Erases of the most-erased sector since the image was created. */
  maxSectorErases: number;
  /** Erases of all sectors since the image was created. */
  totalErases: number;
  /** Erases per hour of the most-erased sector, measured over this run (NaN before there is a measurement). */
  maxSectorErasesPerHour: number;
  /** Days until the most-erased sector reaches the rated endurance at the current rate (Infinity if it is not being erased). */
  projectedLifetimeDays: number;
}

export interface DemoStatus {
  /** Milliseconds since the demo started. */
  uptimeMs: number;
  /** Device boots in this run (1 after start, +1 per reboot). */
  boots: number;
  /** "up", or "down" while the demo has cut the device's network. */
  network: "up" | "down";
  /** What the device is doing: "booting", "running", "rebooting", "stopped". */
  deviceState: string;
  cloudUrl: string;
  /** Readings stored in the cloud's database (all runs). */
  cloudReadings: number;
  collectors: CollectorStatus[];
  sync: SyncStatus;
  flash: FlashStatus;
  reconciliation: {
    /** Readings discarded at this run's first boot: captured by an earlier run (in neither `captured` nor `lost`). */
    carriedIn: number;
    /** Readings that were in flash at this run's power cuts (each next boot discards them: counted in `lost` then). */
    inFlashAtCuts: number;
  };
  /** Newest log lines (device and demo), oldest first. */
  recentLog: string[];
}

export interface Totals {
  captured: number;
  synced: number;
  inFlash: number;
  dropped: number;
  lost: number;
  pending: number;
  setAside: number;
}

export function totals(status: DemoStatus): Totals {
  const sum: Totals = { captured: 0, synced: 0, inFlash: 0, dropped: 0, lost: 0, pending: 0, setAside: 0 };
  for (const c of status.collectors) {
    sum.captured += c.captured;
    sum.synced += c.synced;
    sum.inFlash += c.inFlash;
    sum.dropped += c.dropped;
    sum.lost += c.lost;
    sum.pending += c.pending;
    sum.setAside += c.setAside;
  }
  return sum;
}

/** The closing line scripts and CI look for. */
export function closingLine(status: DemoStatus): string {
  const t = totals(status);
  return `demo: ${t.captured} readings captured, ${t.synced} synced`;
}

/**
 * Readings of this run not accounted for by synced + dropped + lost +
 * set aside + pending (0 when the counts reconcile). `lost` is this run's
 * own: losses carried in from an earlier run are kept apart
 * (`reconciliation.carriedIn`), their readings were captured then, not now.
 */
export function unaccounted(status: DemoStatus): number {
  const t = totals(status);
  return t.captured - (t.synced + t.dropped + t.lost + t.setAside + t.pending);
}

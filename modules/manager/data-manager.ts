/*
 * The data manager: the one object the app and the desktop tools hold. It
 * opens the ring store on the capture partition, runs capture into it and
 * sync out of it, applies new settings at runtime, and reports one status.
 *
 *   const manager = new DataManager({ flash, clock, timers, kv, log, registry, partId, sender, settings });
 *   manager.apply(next);  await manager.syncNow();  manager.status();  await manager.close();
 *
 * Reboot semantics are decided here, at open, so that the loss is counted in
 * readings: the store is always opened retaining what lies after each sync
 * point; the manager counts those readings and then, unless the settings
 * retain unsynced data (`retain_unsynced_on_reboot`), discards them by moving
 * the sync point past them — viam-micro-server's documented behaviour, with
 * the loss reported as `lostAtBoot` instead of vanishing silently.
 *
 * Reading-level accounting per collector (the store counts records, and a
 * record is a block of readings): `dropped` is derived by conservation,
 *   dropped = retainedAtBoot + flushed − (synced + setAside) − inFlash,
 * with `inFlash` counted from the block headers, so it is exact whichever
 * way the ring lost the readings (full ring, or a ring resized by a layout change).
 */
import { Capture } from "../capture/capture";
import type { CollectorStats } from "../capture/collector";
import type { ModelRegistry } from "../capture/registry";
import { readingCount, readingCountIn } from "../capture/transcoder";
import type { CaptureSettings, ConfigIssue, DataManagerSettings } from "../config/settings";
import type { Clock, FlashPort, KeyValueStore, Logger, Timers } from "../ports";
import { type FlashRingStore, openRingStore } from "../storage/ring-store";
import type { Ring } from "../storage/types";
import type { BackoffOptions } from "../sync/backoff";
import { zeroSyncCounters } from "../sync/chunk-uploader";
import { type RoundResult, SyncService, type SyncSettings, type SyncStatus } from "../sync/sync-service";
import type { UploadSender } from "../sync/target";
import { collectorTargets } from "./collector-target";
import { blockReadingsIn, pendingCensus } from "./reading-census";

export interface DataManagerOptions {
  /** The capture partition. */
  flash: FlashPort;
  clock: Clock;
  timers: Timers;
  /** Persists capture's boot timeline (timestamp correction across reboots). */
  kv?: KeyValueStore;
  log: Logger;
  /** Component models available to capture. */
  registry: ModelRegistry;
  /** Robot part id for UploadMetadata.part_id. */
  partId: string;
  /** Delivers upload requests (a CloudClient, or a test double). */
  sender: UploadSender;
  /** Validated settings from the machine config (modules/config). */
  settings: CaptureSettings;
  /** Retry spacing (defaults: 200 ms doubling to one hour, 10% jitter). */
  backoff?: BackoffOptions;
  /** Battery mode (modules/power): a wake from deep sleep is not a reboot; RTC-held batches join the rings. */
  power?: PowerWakeHooks;
}

export interface PowerWakeHooks {
  /** This start continues a run from deep sleep: nothing after the sync points is discarded. */
  continuesRun: boolean;
  /** The run's boot id, continued by capture's boot timeline (0 or absent: a new boot). */
  bootId?: number;
  /** Called once the rings are laid out: append held batches, return the readings added per ring. */
  adopt?: (store: FlashRingStore) => { key: string; readings: number }[];
}

export interface CollectorStatus {
  key: string;
  componentType: string;
  componentName: string;
  method: string;
  /** 0 when the collector is not configured (a ring left from an earlier config) or capture is off. */
  frequencyHz: number;
  /** Configured but disabled (its ring still syncs). */
  disabled: boolean;
  /** Part of the current configuration. */
  configured: boolean;
  /** Readings taken since boot. */
  captured: number;
  /** In capture's RAM batch, not yet in flash. */
  inRam: number;
  /** In flash after the sync point. */
  inFlash: number;
  /** inRam + inFlash: still to be uploaded. */
  pending: number;
  /** Acknowledged by the cloud since boot. */
  synced: number;
  /** Overwritten in flash before they were synced (ring full, or ring resized). */
  dropped: number;
  /**
   * Records the store overwrote unsynced since open (its own count: RingCounters.dropped of the
   * collector's current ring). `dropped` is in readings; each dropped record holds at least one.
   */
  droppedRecords: number;
  /** Lost this boot: unsynced readings of earlier boots discarded at open, plus batches the store refused. */
  lost: number;
  /** Of `lost`: discarded at open (reboot semantics). */
  lostAtBoot: number;
  /** Unsynced readings of earlier boots kept at open (retain option); counted in inFlash/synced/… since. */
  retainedAtBoot: number;
  /** Never uploadable: rejected by the cloud, undecodable, or too large alone (locally or for the cloud). */
  setAside: number;
  missedDeadlines: number;
  sensorErrors: number;
}

export interface DataManagerStatus {
  collectors: CollectorStatus[];
  sync: SyncStatus;
  flash: {
    sizeBytes: number;
    sectorSize: number;
    /** Written space of the rings' live sectors, acknowledged records and headers included (RingCounters.bytesUsed). */
    usedBytes: number;
    /** Record space holding unsynced readings (RingCounters.bytesPending): 0 once all is synced. */
    pendingBytes: number;
    /** What the rings guarantee to keep unsynced; pendingBytes / capacityBytes is how full they are. */
    capacityBytes: number;
    corruptRecords: number;
  };
  captureDisabled: boolean;
  syncDisabled: boolean;
  retainUnsyncedOnReboot: boolean;
  /** Set when the flash could not be read for this snapshot (counts then use the last good census). */
  flashError: string | null;
  /** Config issues reported by the last apply. */
  issues: ConfigIssue[];
}

/** Per-key counts that must outlive a collector being replaced or removed. */
interface Ledger {
  retainedAtBoot: number;
  lostAtBoot: number;
  /** Counters of collectors that were replaced or removed (capture restarts them at 0). */
  captured: number;
  flushed: number;
  refused: number;
  missedDeadlines: number;
  sensorErrors: number;
}

function newLedger(): Ledger {
  return {
    retainedAtBoot: 0,
    lostAtBoot: 0,
    captured: 0,
    flushed: 0,
    refused: 0,
    missedDeadlines: 0,
    sensorErrors: 0,
  };
}

export function syncSettingsFrom(dm: DataManagerSettings): Partial<SyncSettings> {
  const budget = Math.max(1, Math.round(dm.uploadBudgetKb * 1024));
  return {
    intervalMs: dm.syncIntervalMins * 60_000,
    disabled: dm.syncDisabled,
    requestBudgetBytes: budget,
    // One fixed request buffer of this size (proto/upload.ts requestBufferBytes): a record above the
    // budget still travels alone up to 16 KB of SensorData.
    maxRequestBytes: Math.max(budget, 16 * 1024),
  };
}

export class DataManager {
  readonly store: FlashRingStore;
  readonly capture: Capture;
  readonly sync: SyncService;
  private readonly log: Logger;
  private readonly partId: string;
  private readonly ledgers = new Map<string, Ledger>();
  private settings: CaptureSettings;
  private issues: ConfigIssue[] = [];
  private readonly retainUnsynced: boolean;
  private closed = false;
  /** The counters at close (capture's collectors and the store are gone after it). */
  private final: DataManagerStatus | undefined;
  private readonly lastCensus = new Map<string, number>();
  private flashError: string | null = null;

  constructor(options: DataManagerOptions) {
    this.log = options.log;
    this.partId = options.partId;
    this.settings = options.settings;
    const dm = options.settings.dataManager;
    this.retainUnsynced = dm.retainUnsyncedOnReboot;
    this.store = openRingStore({
      flash: options.flash,
      log: options.log,
      retainUnsynced: true,
      recordUnits: blockReadingsIn(readingCountIn),
    });
    this.settleBootBacklog(options.power?.continuesRun === true);
    this.capture = new Capture({
      store: this.store,
      clock: options.clock,
      timers: options.timers,
      log: options.log,
      registry: options.registry,
      ...(options.kv ? { kv: options.kv } : {}),
      ...(options.power?.bootId ? { continueBootId: options.power.bootId } : {}),
    });
    this.sync = new SyncService({
      sender: options.sender,
      clock: options.clock,
      timers: options.timers,
      log: options.log,
      settings: syncSettingsFrom(dm),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    this.issues = this.capture.apply(options.settings);
    for (const held of options.power?.adopt?.(this.store) ?? [])
      this.ledger(held.key).retainedAtBoot += held.readings;
    this.refreshTargets();
    this.sync.start();
  }

  /**
   * Apply new settings at runtime: capture reschedules (continuing collectors
   * keep their RAM batch and ring), sync takes the new interval, budget, tags
   * and sync_disabled. Returns the config issues (each also logged).
   * `retain_unsynced_on_reboot` is read at open: a change applies from the next boot.
   */
  apply(settings: CaptureSettings): ConfigIssue[] {
    if (this.closed) throw new Error("data manager: apply after close");
    // Batches go to flash first, so the counters carried below for replaced collectors are final.
    this.capture.flush();
    const before = new Map(this.capture.stats().map((s) => [s.key, s]));
    this.issues = this.capture.apply(settings);
    const after = new Map(this.capture.stats().map((s) => [s.key, s]));
    for (const [key, old] of before) {
      const now = after.get(key);
      // A replaced collector starts its counters at 0; a removed one disappears: keep what they counted.
      if (!now || now.captured < old.captured) this.carry(key, old);
    }
    this.settings = settings;
    if (settings.dataManager.retainUnsyncedOnReboot !== this.retainUnsynced) {
      this.log.info(
        `data manager: retain_unsynced_on_reboot=${settings.dataManager.retainUnsyncedOnReboot} takes effect at the next boot`,
      );
    }
    try {
      this.sync.apply(syncSettingsFrom(settings.dataManager));
    } catch (error) {
      this.log.error(`sync: settings refused, keeping the previous ones: ${(error as Error).message}`);
    }
    this.refreshTargets();
    return this.issues;
  }

  /**
   * The "sync now" trigger: write capture's RAM batches to flash, then run a
   * sync round at once (even during a backoff wait or with sync_disabled).
   */
  async syncNow(): Promise<RoundResult> {
    if (this.closed) return { ok: false, records: 0, requests: 0 };
    this.capture.flush();
    return this.sync.syncNow();
  }

  /** Counters now; after `close()`, the final ones (taken once the last batches reached flash). */
  status(): DataManagerStatus {
    if (this.final) return copyStatus(this.final);
    const captureStats = new Map(this.closed ? [] : this.capture.stats().map((s) => [s.key, s]));
    const syncStatus = this.sync.status();
    const configured = new Map(this.settings.collectors.map((c) => [c.key, c]));
    const keys = new Set<string>([
      ...configured.keys(),
      ...captureStats.keys(),
      ...Object.keys(syncStatus.collectors),
      ...this.ledgers.keys(),
    ]);
    let usedBytes = 0;
    let pendingBytes = 0;
    let capacityBytes = 0;
    let corruptRecords = 0;
    if (!this.closed) {
      for (const ring of this.store.rings()) {
        keys.add(ring.key);
        const c = ring.counters();
        usedBytes += c.bytesUsed;
        pendingBytes += c.bytesPending;
        capacityBytes += c.capacityBytes;
        corruptRecords += c.corrupt;
      }
    }
    const collectors: CollectorStatus[] = [];
    this.flashError = null;
    for (const key of [...keys].sort()) {
      const stats = captureStats.get(key);
      const ledger = this.ledgers.get(key) ?? newLedger();
      const sync = syncStatus.collectors[key] ?? NO_UPLOADS;
      const settings = configured.get(key);
      const ring = this.closed ? undefined : this.store.ring(key);
      const inFlash = ring ? this.inFlash(ring) : 0;
      const captured = ledger.captured + (stats?.captured ?? 0);
      const flushed = ledger.flushed + (stats?.flushed ?? 0);
      const refused = ledger.refused + (stats?.dropped ?? 0);
      const inRam = stats?.batched ?? 0;
      const setAside = sync.rejected + sync.undecodable + sync.oversized + sync.tooLarge;
      const dropped = Math.max(0, ledger.retainedAtBoot + flushed - sync.synced - setAside - inFlash);
      const identity = keyParts(key);
      collectors.push({
        key,
        componentType: settings?.componentType ?? identity[0],
        componentName: settings?.componentName ?? identity[1],
        method: settings?.method ?? identity[2],
        frequencyHz: stats?.frequencyHz ?? 0,
        disabled: settings?.disabled ?? false,
        configured: settings !== undefined,
        captured,
        inRam,
        inFlash,
        pending: inRam + inFlash,
        synced: sync.synced,
        dropped,
        droppedRecords: ring ? ring.counters().dropped : 0,
        lost: ledger.lostAtBoot + refused,
        lostAtBoot: ledger.lostAtBoot,
        retainedAtBoot: ledger.retainedAtBoot,
        setAside,
        missedDeadlines: ledger.missedDeadlines + (stats?.missedDeadlines ?? 0),
        sensorErrors: ledger.sensorErrors + (stats?.sensorErrors ?? 0),
      });
    }
    const dm = this.settings.dataManager;
    return {
      collectors,
      sync: syncStatus,
      flash: {
        sizeBytes: this.store.flash.size,
        sectorSize: this.store.flash.sectorSize,
        usedBytes,
        pendingBytes,
        capacityBytes,
        corruptRecords,
      },
      captureDisabled: dm.captureDisabled,
      syncDisabled: dm.syncDisabled,
      retainUnsyncedOnReboot: this.retainUnsynced,
      flashError: this.flashError,
      issues: this.issues,
    };
  }

  /**
   * Stop sync (the request in flight finishes), flush capture's RAM batches to
   * flash, close the store. `status()` keeps answering with the final counters.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync.close();
    this.capture.flush();
    // Synchronous from the flush to here: nothing is captured in between.
    try {
      this.final = this.status();
    } catch (error) {
      this.log.error(`data manager: final status unavailable: ${(error as Error)?.message ?? error}`);
    }
    this.capture.close();
    this.closed = true;
    try {
      this.store.close();
    } catch (error) {
      this.log.error(`data manager: closing the store failed: ${(error as Error)?.message ?? error}`);
    }
  }

  /** Readings in flash after the sync point; the last known count if the flash cannot be read now. */
  private inFlash(ring: Ring): number {
    try {
      const readings = pendingCensus(ring, readingCount).readings;
      this.lastCensus.set(ring.key, readings);
      return readings;
    } catch (error) {
      this.flashError = `${ring.key}: ${(error as Error)?.message ?? error}`;
      return this.lastCensus.get(ring.key) ?? 0;
    }
  }

  /** Count what the previous boot left after each sync point; keep it or discard it (counted). */
  private settleBootBacklog(wokeFromDeepSleep: boolean): void {
    for (const ring of this.store.rings()) {
      let census: ReturnType<typeof pendingCensus>;
      try {
        census = pendingCensus(ring, readingCount);
      } catch (error) {
        // A flash that cannot be read now must not stop the device from booting and capturing.
        this.log.error(
          `data manager: ${ring.key}: cannot count the unsynced readings at boot: ${(error as Error)?.message ?? error}`,
        );
        continue;
      }
      if (census.records === 0) continue;
      const ledger = this.ledger(ring.key);
      if (this.retainUnsynced || wokeFromDeepSleep) {
        ledger.retainedAtBoot += census.readings;
        this.log.info(
          `data manager: ${ring.key}: ${census.readings} unsynced reading(s) kept from before the ${wokeFromDeepSleep ? "deep sleep" : "reboot"}`,
        );
        continue;
      }
      try {
        ring.commit(census.lastSeq);
      } catch (error) {
        this.log.error(
          `data manager: ${ring.key}: cannot discard the unsynced readings: ${(error as Error)?.message ?? error}`,
        );
        ledger.retainedAtBoot += census.readings;
        continue;
      }
      ledger.lostAtBoot += census.readings;
      this.log.warn(
        `data manager: ${ring.key}: ${census.readings} unsynced reading(s) from before the reboot discarded (retain_unsynced_on_reboot is off)`,
      );
    }
  }

  private refreshTargets(): void {
    const tags = this.settings.dataManager.tags;
    this.sync.setTargets(collectorTargets(this.store.rings(), this.partId, tags, this.capture, this.log));
  }

  private ledger(key: string): Ledger {
    let ledger = this.ledgers.get(key);
    if (!ledger) {
      ledger = newLedger();
      this.ledgers.set(key, ledger);
    }
    return ledger;
  }

  private carry(key: string, stats: CollectorStats): void {
    const ledger = this.ledger(key);
    ledger.captured += stats.captured;
    ledger.flushed += stats.flushed;
    ledger.refused += stats.dropped;
    ledger.missedDeadlines += stats.missedDeadlines;
    ledger.sensorErrors += stats.sensorErrors;
  }
}

/** A copy a caller may change without changing what the next `status()` returns. */
function copyStatus(status: DataManagerStatus): DataManagerStatus {
  return {
    ...status,
    collectors: status.collectors.map((c) => ({ ...c })),
    sync: {
      ...status.sync,
      settings: { ...status.sync.settings },
      collectors: Object.fromEntries(Object.entries(status.sync.collectors).map(([k, c]) => [k, { ...c }])),
    },
    flash: { ...status.flash },
    issues: [...status.issues],
  };
}

function keyParts(key: string): [string, string, string] {
  const parts = key.split("/");
  return [parts[0] ?? "", parts[1] ?? "", parts[2] ?? ""];
}

const NO_UPLOADS = zeroSyncCounters();

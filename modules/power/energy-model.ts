/*
 * Battery life of an ESP32 in battery mode, from counts the bench measures
 * (XS computrons per wake, flash program and erase operations, upload
 * requests and bytes) and published ESP32 figures. docs/power.md shows the
 * model with every input and its source; `npm run bench -- power` prints it.
 *
 *   charge per day = Σ wakes (boot + CPU + flash + radio) + deep sleep for the rest of the day
 *   days = battery mAh / (charge per day in mAh)
 *
 * A capture wake: boot, then CPU (computrons × ns per computron) at the CPU
 * current, flash programs and erases at CPU + flash current. A sync wake:
 * boot, then the radio is up for WiFi connect, TLS handshake, every RPC's
 * round trip, the upload bytes and the wake's own CPU work, all at the
 * radio's average current. viam-micro-server's mode: every wake is a boot,
 * the same CPU work for the reading, and a radio session uploading it.
 */

export interface EnergyInputs {
  batteryMah: number;
  /** ESP32 deep sleep, RTC timer + RTC memory on. */
  deepSleepMa: number;
  /** CPU running, radio off (modem-sleep, 240 MHz). */
  cpuMa: number;
  /** Wake from deep sleep to the application, optimised boot. */
  bootMs: number;
  bootMa: number;
  /** XS machine and app start on top of the boot (capsync's own allowance). */
  xsStartMs: number;
  /** ESP32 time per XS computron (capsync's own constant; see docs/power.md). */
  nsPerComputron: number;
  /** Radio listening/receiving and transmitting; share of radio time spent transmitting. */
  radioRxMa: number;
  radioTxMa: number;
  radioTxShare: number;
  /**
   * WiFi association + address: to the remembered access point (BSSID and channel, no scan) with the
   * last DHCP lease restored (one REQUEST/ACK round trip, no ARP probe); see docs/power.md.
   */
  wifiConnectMs: number;
  /** A full TLS 1.2 handshake (mbedTLS on the ESP32). */
  tlsHandshakeMs: number;
  /** Round trip to the cloud; DNS and TCP connect take one each. */
  rttMs: number;
  /** TLS payload throughput. */
  throughputBytesPerS: number;
  /** SPI NOR: one page (256 B) program, one 4 KB sector erase, current on top of the CPU. */
  flashPageProgramMs: number;
  flashSectorEraseMs: number;
  flashMa: number;
}

export const ENERGY_INPUTS: Readonly<EnergyInputs> = {
  batteryMah: 2000,
  deepSleepMa: 0.01,
  cpuMa: 50,
  bootMs: 70,
  bootMa: 47,
  xsStartMs: 30,
  nsPerComputron: 500,
  radioRxMa: 100,
  radioTxMa: 240,
  radioTxShare: 0.1,
  wifiConnectMs: 764,
  tlsHandshakeMs: 1200,
  rttMs: 100,
  throughputBytesPerS: 70_000,
  flashPageProgramMs: 0.8,
  flashSectorEraseMs: 45,
  flashMa: 20,
};

/** What one kind of wake does, on average (measured). */
export interface WakeProfile {
  /** Wakes of this kind per day. */
  perDay: number;
  computrons: number;
  /** Flash page programs and sector erases per wake. */
  pages: number;
  erases: number;
  /** Sync wakes: upload requests and request bytes per wake (0 for capture wakes). */
  requests: number;
  uploadBytes: number;
  /** Whether the radio comes up. */
  radio: boolean;
}

export interface EnergyBreakdown {
  /** mAh per day by what spends it. */
  boot: number;
  cpu: number;
  flash: number;
  radio: number;
  sleep: number;
  total: number;
  days: number;
  /** Seconds awake per day. */
  awakeS: number;
}

export function radioMa(i: EnergyInputs): number {
  return (1 - i.radioTxShare) * i.radioRxMa + i.radioTxShare * i.radioTxMa;
}

/** Radio-on ms of one sync session: connect, TLS, DNS + TCP + one round trip per RPC, the bytes. */
export function radioSessionMs(i: EnergyInputs, rpcs: number, bytes: number): number {
  return i.wifiConnectMs + i.tlsHandshakeMs + (2 + rpcs) * i.rttMs + (bytes / i.throughputBytesPerS) * 1000;
}

export function dailyEnergy(wakes: readonly WakeProfile[], i: EnergyInputs = ENERGY_INPUTS): EnergyBreakdown {
  const mAsToMah = 1 / 3600;
  let boot = 0;
  let cpu = 0;
  let flash = 0;
  let radio = 0;
  let awakeMs = 0;
  for (const w of wakes) {
    const bootMs = i.bootMs + i.xsStartMs;
    const cpuMs = (w.computrons * i.nsPerComputron) / 1e6;
    const flashMs = w.pages * i.flashPageProgramMs + w.erases * i.flashSectorEraseMs;
    boot += w.perDay * bootMs * i.bootMa;
    flash += w.perDay * flashMs * (i.cpuMa + i.flashMa);
    let wakeMs = bootMs + flashMs;
    if (w.radio) {
      // Authenticate and Config, then the upload requests; the wake's CPU work happens with the radio up.
      const sessionMs = radioSessionMs(i, 2 + w.requests, w.uploadBytes) + cpuMs;
      radio += w.perDay * sessionMs * radioMa(i);
      wakeMs += sessionMs;
    } else {
      cpu += w.perDay * cpuMs * i.cpuMa;
      wakeMs += cpuMs;
    }
    awakeMs += w.perDay * wakeMs;
  }
  const sleepMs = Math.max(0, 86_400_000 - awakeMs);
  const sleep = sleepMs * i.deepSleepMa;
  const parts = {
    boot: (boot / 1000) * mAsToMah,
    cpu: (cpu / 1000) * mAsToMah,
    flash: (flash / 1000) * mAsToMah,
    radio: (radio / 1000) * mAsToMah,
    sleep: (sleep / 1000) * mAsToMah,
  };
  const total = parts.boot + parts.cpu + parts.flash + parts.radio + parts.sleep;
  return { ...parts, total, days: i.batteryMah / total, awakeS: awakeMs / 1000 };
}

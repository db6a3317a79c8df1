// Child process for host-tests/node/storage-file.test.ts: opens the ring store
// on a file-backed image, appends `count` records (record i = [i, i, i]),
// commits `commit` of them, optionally with a power cut torn into operation
// `cutAt`, and exits without closing anything (as a killed device would).
import { FileFlash } from "../../host/flash-file";
import { PowerCutError } from "../../modules/storage/nor-image";
import { openRingStore } from "../../modules/storage/ring-store";
import { TestBatch } from "./flash-scenario";

const [path, countText, commitText, cutText] = process.argv.slice(2);
const flash = new FileFlash({ path: path!, size: 16 * 4096 });
if (cutText !== undefined)
  flash.armPowerCut({ atOperation: flash.operations + Number(cutText), tear: "bits", seed: 3 });
try {
  const store = openRingStore({ flash, retainUnsynced: true, layout: [{ key: "k", sectors: 6 }] });
  const ring = store.ring("k")!;
  const batch = new TestBatch(4096, 100);
  const count = Number(countText);
  for (let i = 1; i <= count; i++) {
    batch.add(new Uint8Array([i & 0xff, i & 0xff, i & 0xff]));
    if (batch.count === 100 || i === count) {
      ring.append(batch);
      batch.clear();
    }
  }
  ring.commit(ring.nextSequence - 1 - (count - Number(commitText)));
  process.stdout.write(JSON.stringify({ next: ring.nextSequence, sync: ring.syncPoint }));
} catch (error) {
  if (!(error instanceof PowerCutError)) throw error;
  process.stdout.write(JSON.stringify({ cut: true }));
}
process.exit(0);

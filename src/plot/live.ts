/**
 * Live training in a notebook: a `fit` callback that drives `liveProgress` — one progress bar (epoch, batch,
 * ETA, loss) and one loss curve, replaced in place under one display id, whose last rendering is the final state.
 */
import { LiveProgress, resolveDisplay, type DisplayFn } from "./progress.js";

export interface LiveOptions {
  /** Where to show it (default: the kernel's `globalThis.display`, or Deno's `Deno.jupyter.display`). */
  display?: DisplayFn;
  /** Shown before the progress line. */
  title?: string;
  /** Least time between two renderings, in ms (default 250: at most 4 per second). The final state is always shown. */
  minIntervalMs?: number;
  /** Display id (default a fresh one per `fit` call). */
  displayId?: string;
  /** Clock in ms (default `performance.now`); tests inject a fake one. */
  now?: () => number;
}

// What `fit` passes to its callbacks, as far as this view reads it (plot imports no training code).
interface TrainBegin { epochs: number; batchesPerEpoch: number }
interface BatchEnd { epoch: number; batch: number; loss: number }
interface EpochEnd { epoch: number; batches: number; trainLoss: number; trainAcc?: number; valLoss?: number; valAcc?: number }

/** The callback `live()` returns; `progress` is the current run's view (undefined before `fit` starts). */
export class LiveCallback {
  progress?: LiveProgress;
  private readonly display: DisplayFn;

  constructor(private readonly o: LiveOptions = {}) {
    this.display = resolveDisplay(o.display, "plot.live");
  }

  onTrainBegin(p: TrainBegin): void {
    this.progress = p.epochs > 0 ? new LiveProgress({
      total: { epochs: p.epochs, batchesPerEpoch: p.batchesPerEpoch },
      display: this.display, title: this.o.title, minIntervalMs: this.o.minIntervalMs, displayId: this.o.displayId, now: this.o.now,
    }) : undefined;
  }

  onBatchEnd(log: BatchEnd): void {
    this.progress?.update({ epoch: log.epoch + 1, batch: log.batch + 1, loss: log.loss });
  }

  onEpochEnd(log: EpochEnd): void {
    const { trainLoss, trainAcc, valLoss, valAcc } = log;
    const metrics = Object.fromEntries(Object.entries({ trainLoss, trainAcc, valLoss, valAcc }).filter(([, v]) => v !== undefined));
    this.progress?.update({ epoch: log.epoch + 1, batch: log.batches, ...metrics });
  }

  onTrainEnd(): void {
    this.progress?.close();
  }
}

/**
 * A `fit` callback showing training live: `await fit(model, data, { epochs, optimizer, callbacks: [plot.live()] })`.
 * During an epoch the line shows the batch loss; at its end the epoch's trainLoss/trainAcc/valLoss/valAcc. The
 * curve draws every batch loss and each epoch's validation loss. One `display_data`, then `update_display_data`
 * under the same id at most every `minIntervalMs`, and always once when training ends, so the saved notebook
 * keeps the final state. Display: `options.display`, else `globalThis.display` (installed by the dropout-lab
 * kernel), else Deno's `Deno.jupyter.display`; throws when there is none.
 */
export function live(options: LiveOptions = {}): LiveCallback {
  return new LiveCallback(options);
}

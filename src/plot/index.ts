/** Rich display for notebooks: every object returns a mime bundle under `Symbol.for("Jupyter.display")`. */
export { DISPLAY, Display, svg, png, type Displayable, type MimeBundle } from "./display.js";
export type { ArrayInput, ArrayLike2D, Nested } from "./input.js";
export { colormap, colormapTable, type ColormapName, type RGB } from "./colormap.js";
export { crc32, encodeIndexedPng } from "./png.js";
export { minMaxDownsample, ema, type Points } from "./downsample.js";
export { escapeXml } from "./svg.js";
export {
  lossPlot, historyCurve, LossPlot,
  type LossPlotInput, type LossPlotOptions, type Series, type HistoryLike, type EpochRecord, type EpochFields, type NamedRun, type Split,
} from "./loss.js";
export { maskHeatmap, MaskHeatmap, type MaskHeatmapOptions, type MaskKind, type RnnMasks } from "./mask.js";
export { imageGrid, ImageGrid, type ImageGridOptions } from "./image-grid.js";
export { histogram, Histogram, type HistogramOptions, type HistogramSeries } from "./histogram.js";
export { uncertaintyPlot, UncertaintyPlot, type UncertaintyInput, type UncertaintyOptions } from "./uncertainty.js";
export { tensorView, TensorView } from "./tensor-view.js";
export { resultsTable, ResultsTable, modelSummary, ModelSummary, type Cell, type LayerInfo, type ModuleLike, type ModelSummaryOptions, type ResultsTableOptions } from "./tables.js";
export { liveProgress, LiveProgress, ProgressView, kernelDisplay, type DisplayFn, type LiveProgressOptions, type ProgressState } from "./progress.js";
export { live, LiveCallback, type LiveOptions } from "./live.js";

/**
 * Datasets, offline: MNIST and Fashion-MNIST (IDX files), CIFAR-10 binary files, a synthetic CIFAR-style
 * set, the Brown corpus as characters; batching and shuffling by explicit keys. Node-only (fs, zlib).
 */
export { DataError } from "./errors.js";
export { readIdx, parseIdx, encodeIdx, type IdxArray, type IdxType } from "./idx-reader.js";
export {
  numSamples,
  takeRows,
  subset,
  head,
  trainValSplit,
  batches,
  batchCount,
  epochOrder,
  type Dataset,
  type LabeledDataset,
  type TrainValSplitOptions,
  type BatchOptions,
  type Batch,
} from "./dataset.js";
export {
  mnist,
  fashionMnist,
  sequentialMnist,
  mnistDir,
  MNIST_MEAN,
  MNIST_STD,
  FASHION_MEAN,
  FASHION_STD,
  FASHION_MNIST_DIR,
  type MnistOptions,
  type SequentialOptions,
  type SequenceDataset,
} from "./mnist.js";
export { cifar10Binary, CIFAR10_CLASSES, type Cifar10BinaryOptions } from "./cifar.js";
export { cifarStyle, CIFAR_STYLE_CLASSES, type CifarStyleOptions } from "./cifar-style.js";
export {
  brownText,
  brownDir,
  stripBrownTags,
  brownChars,
  charCorpus,
  charBatches,
  Vocab,
  type CharCorpus,
  type CharSplitOptions,
  type CharBatchOptions,
  type CharBatch,
} from "./text.js";

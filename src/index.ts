/**
 * dropout-lab: tensors, autograd, neural-network layers and every dropout variant.
 *
 * Tensor ops are named exports (PyTorch names: `add`, `matmul`, `conv2d`, ...) and Tensor methods
 * (`x.matmul(w).add(b).relu()`); keyed random numbers live in the `random` namespace.
 */
export const version = "0.1.0";
export * from "./tensor/index.js";
export * as random from "./random/index.js";
export { Key, key, split, foldIn, manualSeed, nextKey } from "./random/keys.js";
export * as plot from "./plot/index.js";
export * as data from "./data/index.js";

// ---- Layers, dropout family, optimizers, training, checkpoints (src/nn, src/dropout, src/optim, src/train, src/io) ----
export * as nn from "./nn/index.js";
export {
  Module, Sequential, type TensorModule, type LoadStateDictOptions,
  Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d, BatchNorm2d, Embedding, ReLU, Tanh, Sigmoid, SELU, Softmax, Maxout,
  selu, SELU_ALPHA, SELU_LAMBDA,
  type LinearOptions, type Conv2dLayerOptions, type PoolOptions, type BatchNormOptions, type EmbeddingOptions,
  LSTM, GRU, LSTMCell, GRUCell, type CellOptions, type RecurrentOptions, type LSTMOptions, type GRUOptions, type RecurrentOutput, type RecurrentState, type VariationalOptions, type ZoneoutOptions,
  MultiHeadSelfAttention, type AttentionOptions,
  nllLoss, bitsPerChar,
  uniformInit, xavierUniform, xavierNormal, heUniform, heNormal, lecunNormal, initWeight, fans, type InitName,
  KeyStream, isStochastic, type Stochastic,
  DropoutModule, Dropout, Dropout1d, Dropout2d, GaussianDropout, AlphaDropout, DropBlock2d, DropConnect, StochasticDepth,
  type DropoutModuleOptions, type DropoutLayerOptions, type StochasticDepthOptions,
} from "./nn/index.js";
export {
  linearSchedule, exponentialSchedule, stepSchedule, scheduleDropout, applyMaxNorm, maxNorm, mcPredict,
  type Schedule, type LinearScheduleOptions, type ExponentialScheduleOptions, type StepScheduleOptions, type EpochHook, type BatchHook,
  type MCPredictOptions, type MCPrediction,
} from "./dropout/schedule.js";
export {
  SGD, Adam, RMSProp, scheduleLr, scheduleMomentum, hinton2012, clipGradNorm,
  type Optimizer, type SGDOptions, type AdamOptions, type RMSPropOptions, type Hinton2012Options,
} from "./optim/optimizers.js";
export {
  fit, evaluate, earlyStopping,
  type Dataset, type LossSpec, type EpochLog, type BatchLog, type History, type Callback, type TrainParams, type FitOptions, type EvaluateOptions, type EarlyStoppingOptions,
} from "./train/fit.js";
export { save, load, loadInto, saveTensors, loadTensors, type Checkpoint } from "./io/safetensors.js";

/** The `nn` namespace: modules, layers, losses and the dropout family under PyTorch-familiar names. */
export { Module, Sequential, type TensorModule, type LoadStateDictOptions } from "./module.js";
export {
  Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d, BatchNorm2d, Embedding, ReLU, Tanh, Sigmoid, SELU, Softmax, Maxout,
  selu, SELU_ALPHA, SELU_LAMBDA,
  type LinearOptions, type Conv2dLayerOptions, type PoolOptions, type BatchNormOptions, type EmbeddingOptions,
} from "./layers.js";
export { LSTM, GRU, LSTMCell, GRUCell, type CellOptions, type RecurrentOptions, type LSTMOptions, type GRUOptions, type RecurrentOutput, type RecurrentState, type VariationalOptions, type ZoneoutOptions } from "./rnn.js";
export { MultiHeadSelfAttention, type AttentionOptions } from "./attention.js";
export { nllLoss, bitsPerChar } from "./losses.js";
export { crossEntropy, mseLoss } from "../tensor/layers.js";
export { uniformInit, xavierUniform, xavierNormal, heUniform, heNormal, lecunNormal, initWeight, fans, type InitName } from "./init.js";
export { KeyStream, isStochastic, type Stochastic } from "./noise.js";
export {
  DropoutModule, Dropout, Dropout1d, Dropout2d, GaussianDropout, AlphaDropout, DropBlock2d, DropConnect, StochasticDepth,
  type DropoutModuleOptions, type DropoutLayerOptions, type StochasticDepthOptions,
} from "../dropout/base.js";

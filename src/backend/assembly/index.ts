// The WebAssembly kernels of the backend. Built twice by scripts/build-wasm.mjs: with SIMD128 and with
// relaxed SIMD (fused multiply-add); memory is imported and shared with the worker instances.
export { gemm, gemmWorkspaceBytes, gemmPackA, gemmPackedABytes } from "./gemm";
export { sparseCount, sparseIndexBytes, sparsePack, sparseWorkspaceBytes, sparseGemm } from "./sparse";
export { dropout, dropoutApply } from "./dropout";
export { zero, relu, reluBackward, binary, binaryRow, sumRows, axpy, sgdMomentum } from "./elementwise";
export {
  im2col, col2im, rowSums, maxPool, maxPoolBackward, convImages, convWorkspaceBytes,
  convPackWeights, convOffsets, convDirectWorkspaceBytes, convForward, convBackward,
} from "./conv";
export { lstmForward, lstmBackward } from "./lstm";

/** First byte after the module's static data; the JavaScript side allocates above it. */
export function heapBase(): usize {
  return __heap_base;
}

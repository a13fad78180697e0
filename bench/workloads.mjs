// Training workloads measured by bench/run.mjs beside PyTorch's (bench/torch_bench.py builds the same
// models). Each entry is { key, label, run }: `run()` trains on random data and returns samples per second
// (timed after warm-up); run.mjs reports it as `${key}_samples_per_s` and, when torch_bench.py measured
// `torch_${key}_samples_per_s`, also `${key}_ratio` (ours / PyTorch's). The keys torch_bench.py measures:
//   mlp            784-800-800-10 ReLU, dropout 0.5 after each hidden layer, cross-entropy, SGD momentum 0.9,
//                  batch 100
//   mlp_nodropout  the same without dropout
//   cnn            32×32×3: conv 3→32 5×5 pad 2, ReLU, maxpool 2, conv 32→64 5×5 pad 2, ReLU, maxpool 2,
//                  linear 4096→1024, ReLU, linear 1024→10, batch 64
//   lstm           LSTM 1→128 over T=784, batch 32, loss on linear 128→10 of the last step
// Entries are added here as the tensor and nn layers land; the list holds only workloads that exist.
export const workloads = [];

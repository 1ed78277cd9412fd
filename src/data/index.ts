// tg.data: data sets in memory, batches, and MNIST fetched by a browser (browser-safe; Node
// reads MNIST and CIFAR-10 from files through 'ticketgrad/node').
export { type Dataset, type Split, type Batch, type BatchOptions, exampleSize, subset, holdOut, select, batches, normalize } from './dataset.js';
export { MNIST_MEAN, MNIST_STD, MNIST_CLASSES, fetchMnist, splitMnist } from './mnist-digits.js';
export { type SyntheticOptions, loadSynthetic } from './synthetic.js';
export { CIFAR10_MEAN, CIFAR10_STD, augmentCifar } from './cifar10-images.js';

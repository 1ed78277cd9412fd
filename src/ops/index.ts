export { add, sub, mul, div, pow, maximum, clamp, neg, exp, log, abs, sign, sqrt, relu, sigmoid, step, expand, sum, mean, max } from './elementwise.js';
export { reshape, transpose, flatten } from './shape.js';
export { matmul } from './matmul.js';
export { conv2d, maxPool2d, avgPool2d, type Conv2dOptions, type Pool2dOptions } from './conv.js';
export { batchNorm2d, type BatchNormOptions } from './norm.js';
export { logSoftmax, crossEntropy, correctCount } from './loss.js';
export { powerProp, powerPropInit, scoreMask, straightThrough, binarize } from './mpt.js';
export { topkMask, thresholdMask, type TopkMaskOptions } from './topk.js';

export { Module, Sequential, ReLU, Flatten, MaxPool2d, GlobalAvgPool, Linear, Conv2d, BatchNorm2d, BatchNorm1d, Residual, kaimingNormal } from './module.js';
export { PrunableLayer, PrunableLinear, PrunableConv2d, type MaskMode, type PrunableOptions } from './prunable.js';
export { createModel, prunableLayers, MODEL_NAMES, type ModelName, type ModelOptions } from './models.js';

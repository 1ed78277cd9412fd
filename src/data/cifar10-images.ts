// CIFAR-10's images in memory (browser-safe; the files are read by cifar10.ts): their
// normalisation and the standard training augmentation.

import { randomWord } from '../random.js';

/** Per-channel mean and std of the training set (pixels in [0, 1]), as in the reference code. */
export const CIFAR10_MEAN = [0.491, 0.482, 0.447];
export const CIFAR10_STD = [0.247, 0.243, 0.262];

export const SIDE = 32;
export const PLANE = SIDE * SIDE;
export const PIXELS = 3 * PLANE;
const CROP_PADDING = 4;

/**
 * The standard CIFAR training augmentation on a batch of normalised [3, 32, 32] images: a random
 * 32x32 crop of the image zero-padded by 4 on each side, then a horizontal flip with probability
 * 1/2. The padding is black as in torchvision (which pads before normalising), i.e. -mean/std in
 * normalised units. Returns a new array; the same (images, seed) always gives the same result,
 * so pass a seed that changes every step (e.g. derived from run seed, epoch and batch index).
 */
export function augmentCifar(images: Float32Array, batch: number, seed: number): Float32Array {
  if (images.length !== batch * PIXELS) throw new Error(`augmentCifar: expected ${batch} x 3 x 32 x 32 = ${batch * PIXELS} values, got ${images.length}`);
  const black = CIFAR10_MEAN.map((mean, c) => -mean / CIFAR10_STD[c]);
  const positions = 2 * CROP_PADDING + 1;
  const out = new Float32Array(images.length);
  for (let b = 0; b < batch; b++) {
    // Shift of the crop window relative to the unpadded image, in -4..4.
    const dx = (randomWord(seed, 3 * b) % positions) - CROP_PADDING;
    const dy = (randomWord(seed, 3 * b + 1) % positions) - CROP_PADDING;
    const flip = (randomWord(seed, 3 * b + 2) & 1) === 1;
    for (let c = 0; c < 3; c++) {
      const plane = b * PIXELS + c * PLANE;
      for (let y = 0; y < SIDE; y++) {
        const sy = y + dy;
        for (let x = 0; x < SIDE; x++) {
          const sx = (flip ? SIDE - 1 - x : x) + dx;
          const inside = sy >= 0 && sy < SIDE && sx >= 0 && sx < SIDE;
          out[plane + y * SIDE + x] = inside ? images[plane + sy * SIDE + sx] : black[c];
        }
      }
    }
  }
  return out;
}

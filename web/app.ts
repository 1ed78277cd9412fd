// The web page (web/index.html, served by `npm run web`): pick a model and a ticket's settings,
// train it on MNIST in this tab, watch the loss and accuracy, the mask of a layer and its
// all-zero kernels, and compare with the dense baseline. Browser-only (uses the DOM).

import * as tg from '../src/index.js';
import { type EpochReport, type LayerSummary, PAGE_MODELS, type PageModel, type RunConfig, type RunResult, trainRun } from './trainer.js';

type RunKind = 'ticket' | 'dense';
type PageState = 'idle' | 'loading' | 'training' | 'done' | 'stopped' | 'error';

const RUN_LABELS: Record<RunKind, string> = { ticket: 'ticket (MPT)', dense: 'dense baseline' };
const BATCH = 50;
const SEED = 1;
/** Mask image colours (RGBA): a kept connection, a removed one, the gap between conv kernels. */
const KEPT = [31, 59, 115, 255];
const REMOVED = [255, 255, 255, 255];
const GAP = [210, 210, 210, 255];

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`web page: #${id} is missing or of the wrong element type`);
  return found;
}

const ui = {
  notice: element('gpu-notice', HTMLDivElement),
  form: element('config', HTMLFormElement),
  model: element('model', HTMLSelectElement),
  sparsity: element('sparsity', HTMLInputElement),
  alpha: element('alpha', HTMLInputElement),
  mask: element('mask', HTMLSelectElement),
  epochs: element('epochs', HTMLInputElement),
  trainSize: element('train-size', HTMLInputElement),
  backend: element('backend', HTMLSelectElement),
  withDense: element('with-dense', HTMLInputElement),
  train: element('train', HTMLButtonElement),
  stop: element('stop', HTMLButtonElement),
  status: element('status', HTMLDivElement),
  ticketAccuracy: element('ticket-accuracy', HTMLElement),
  ticketDetail: element('ticket-detail', HTMLSpanElement),
  denseAccuracy: element('dense-accuracy', HTMLElement),
  denseDetail: element('dense-detail', HTMLSpanElement),
  lossChart: element('loss-chart', HTMLDivElement),
  accuracyChart: element('accuracy-chart', HTMLDivElement),
  maskLayer: element('mask-layer', HTMLSelectElement),
  maskCanvas: element('mask-canvas', HTMLCanvasElement),
  maskCaption: element('mask-caption', HTMLParagraphElement),
  layerTable: element('layer-table', HTMLTableElement),
  epochTable: element('epoch-table', HTMLTableElement),
};

interface RunHistory {
  /** [epochs done (fractional), loss] per step. */
  losses: [number, number][];
  epochs: EpochReport[];
}

const history: Record<RunKind, RunHistory> = { ticket: { losses: [], epochs: [] }, dense: { losses: [], epochs: [] } };
let shownLayers: LayerSummary[] = [];
let mnist: Promise<tg.data.Split> | null = null;
/** Aborted by the Stop button; a new one per Train. */
let stop = new AbortController();

const percent = (fraction: number, digits = 2): string => `${(100 * fraction).toFixed(digits)}%`;

function setStatus(text: string, state: PageState): void {
  ui.status.textContent = text;
  ui.status.dataset.state = state;
}

function setRunning(running: boolean): void {
  ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select').forEach((control) => (control.disabled = running));
  ui.train.disabled = running;
  ui.stop.disabled = !running;
  // A backend this browser lacks stays off.
  if (!running) for (const option of Array.from(ui.backend.options)) option.disabled = !available.has(option.value as tg.BackendName);
}

/** The backends this browser has, found once at load. */
const available = new Set<tg.BackendName>(['cpu']);

/**
 * Finds the backends once at load and picks as `tg.init()`'s auto does: a hardware WebGPU
 * adapter, else WebAssembly (a software WebGPU adapter stays available, not chosen); the
 * notice says what each is.
 */
async function detectBackends(): Promise<void> {
  const lines: string[] = [];
  let hardwareGpu = false;
  try {
    const { adapter, softwareGpu } = await tg.init({ backend: 'webgpu' });
    available.add('webgpu');
    hardwareGpu = !softwareGpu;
    lines.push(`WebGPU adapter: ${adapter}${hardwareGpu ? '. Training runs on this GPU.' : ' (a software renderer: WebAssembly is faster on this CPU).'}`);
  } catch (error) {
    const reason = navigator.gpu ? 'navigator.gpu gave no adapter' : 'navigator.gpu is missing';
    ui.notice.classList.add('missing');
    lines.push(`This browser has no WebGPU (${reason}); training runs on WebAssembly. For WebGPU use a recent Chrome or Edge, or a browser with WebGPU enabled.`);
    ui.notice.title = (error as Error).message;
  }
  let wasmAdapter = 'unavailable';
  try {
    wasmAdapter = (await tg.init({ backend: 'wasm', quiet: true })).adapter;
    available.add('wasm');
    const single = crossOriginIsolated ? '' : ' (one thread: this page is not cross-origin isolated)';
    lines.push(`Wasm backend: ${wasmAdapter}${single}.`);
  } catch (error) {
    lines.push(`No WebAssembly SIMD backend (${(error as Error).message}): only the CPU reference (slow) is left.`);
  }
  ui.backend.value = hardwareGpu ? 'webgpu' : available.has('wasm') ? 'wasm' : 'cpu';
  for (const option of Array.from(ui.backend.options)) if (option.value === 'wasm') option.textContent = `WebAssembly (${wasmAdapter.replace(/^WebAssembly /, '')})`;
  ui.notice.textContent = lines.join(' ');
  setRunning(false);
  setStatus('Ready: choose the settings and press Train.', 'idle');
}

/** The form's settings, checked; the train size is the number of training digits used. */
function readConfig(): { config: RunConfig; trainSize: number } {
  const number = (input: HTMLInputElement, low: number, high: number): number => {
    const value = input.valueAsNumber;
    if (!(value >= low && value <= high)) throw new Error(`${input.id} must be between ${low} and ${high}, got '${input.value}'`);
    return value;
  };
  const config: RunConfig = {
    model: ui.model.value as PageModel,
    method: 'mpt',
    sparsity: number(ui.sparsity, 0, 0.99),
    alpha: number(ui.alpha, 1, 4),
    mask: ui.mask.value === 'bitonic' ? 'bitonic' : 'threshold',
    epochs: Math.round(number(ui.epochs, 1, 50)),
    batch: BATCH,
    seed: SEED,
  };
  return { config, trainSize: Math.round(number(ui.trainSize, 10, 8000)) };
}

function renderCharts(): void {
  const kinds: RunKind[] = ['ticket', 'dense'];
  const lossSeries: tg.report.LineSeries[] = kinds.filter((k) => history[k].losses.length > 0).map((k) => ({ name: RUN_LABELS[k], points: history[k].losses }));
  ui.lossChart.innerHTML = tg.report.lineChart({ title: 'Training loss (each step)', xLabel: 'epoch', yLabel: 'cross-entropy', series: lossSeries, width: 600, height: 360 });
  const accuracySeries: tg.report.LineSeries[] = kinds
    .filter((k) => history[k].epochs.length > 0)
    .flatMap((k) => [
      { name: `${RUN_LABELS[k]} test`, points: history[k].epochs.map((e): [number, number] => [e.epoch, 100 * e.testAccuracy]) },
      { name: `${RUN_LABELS[k]} train`, points: history[k].epochs.map((e): [number, number] => [e.epoch, 100 * e.trainAccuracy]) },
    ]);
  ui.accuracyChart.innerHTML = tg.report.lineChart({ title: 'Accuracy (each epoch)', xLabel: 'epoch', yLabel: 'accuracy (%)', series: accuracySeries, width: 600, height: 360 });
}

function addEpochRow(kind: RunKind, e: EpochReport): void {
  const row = ui.epochTable.tBodies[0].insertRow();
  row.dataset.run = kind;
  row.dataset.trainLoss = String(e.trainLoss);
  row.dataset.testAccuracy = String(e.testAccuracy);
  for (const text of [RUN_LABELS[kind], String(e.epoch), e.lr.toPrecision(3), e.trainLoss.toFixed(4), percent(e.trainAccuracy), percent(e.testAccuracy), e.seconds.toFixed(1)]) {
    row.insertCell().textContent = text;
  }
}

function showLayers(layers: LayerSummary[]): void {
  shownLayers = layers;
  const selected = ui.maskLayer.value;
  ui.maskLayer.replaceChildren(...layers.map((l) => new Option(`${l.name} [${l.shape.join('x')}]`, l.name)));
  if (layers.some((l) => l.name === selected)) ui.maskLayer.value = selected;
  const body = ui.layerTable.tBodies[0];
  body.replaceChildren();
  for (const l of layers) {
    const row = body.insertRow();
    const zeroKernels = l.kernels ? `${l.kernels.zeroKernels} of ${l.kernels.kernels}` : l.mask ? 'n/a (linear)' : 'n/a (no mask)';
    for (const text of [l.name, l.shape.join('x'), percent(l.density, 1), zeroKernels]) row.insertCell().textContent = text;
  }
  drawMask();
}

/**
 * The selected layer's mask, one pixel per weight. Linear [in, out]: a row per output, a column
 * per input. Conv [O, C, k, k]: a row of k x k blocks per output channel, a block per input
 * channel, so all-zero kernels show as white blocks.
 */
function drawMask(): void {
  const layer = shownLayers.find((l) => l.name === ui.maskLayer.value);
  const context = ui.maskCanvas.getContext('2d');
  if (!layer?.mask || !context) return;
  const mask = layer.mask;
  let width: number, height: number, pixelOf: (index: number) => [number, number];
  if (layer.shape.length === 4) {
    const [outputs, inputs, kh, kw] = layer.shape;
    [width, height] = [inputs * (kw + 1) - 1, outputs * (kh + 1) - 1];
    pixelOf = (index) => {
      const [j, i, c, o] = [index % kw, Math.floor(index / kw) % kh, Math.floor(index / (kw * kh)) % inputs, Math.floor(index / (kw * kh * inputs))];
      return [c * (kw + 1) + j, o * (kh + 1) + i];
    };
  } else {
    const [inputs, outputs] = layer.shape;
    [width, height] = [inputs, outputs];
    pixelOf = (index) => [Math.floor(index / outputs), index % outputs];
  }
  const image = context.createImageData(width, height);
  for (let p = 0; p < width * height; p++) image.data.set(GAP, p * 4);
  for (let index = 0; index < mask.length; index++) {
    const [x, y] = pixelOf(index);
    image.data.set(mask[index] !== 0 ? KEPT : REMOVED, (y * width + x) * 4);
  }
  [ui.maskCanvas.width, ui.maskCanvas.height] = [width, height];
  context.putImageData(image, 0, 0);
  const layout =
    layer.shape.length === 4 ? 'rows: output channels, one block per input channel (a k x k kernel); white blocks are all-zero kernels' : 'rows: outputs, columns: inputs';
  ui.maskCaption.textContent = `${layer.name} ${layer.shape.join('x')}: ${percent(layer.density, 1)} of the connections kept (dark). ${layout}.`;
}

async function runOne(kind: RunKind, split: tg.data.Split, config: RunConfig): Promise<RunResult> {
  const label = RUN_LABELS[kind];
  return trainRun(
    split,
    config,
    {
      onStart: ({ lr }) => setStatus(`Training the ${label} (lr ${lr.toPrecision(3)})...`, 'training'),
      onStep: ({ step, epoch, stepsPerEpoch, loss }) => {
        history[kind].losses.push([step / stepsPerEpoch, loss]);
        setStatus(`${label}: epoch ${epoch}/${config.epochs}, step ${step - (epoch - 1) * stepsPerEpoch}/${stepsPerEpoch}, loss ${loss.toFixed(4)}`, 'training');
        renderCharts();
      },
      onEpoch: (report) => {
        history[kind].epochs.push(report);
        addEpochRow(kind, report);
        renderCharts();
        if (kind === 'ticket') showLayers(report.layers);
      },
    },
    stop.signal,
  );
}

async function trainAll(): Promise<void> {
  setRunning(true);
  stop = new AbortController();
  for (const run of Object.values(history)) [run.losses, run.epochs] = [[], []];
  ui.epochTable.tBodies[0].replaceChildren();
  for (const [value, detail] of [
    [ui.ticketAccuracy, ui.ticketDetail],
    [ui.denseAccuracy, ui.denseDetail],
  ]) {
    value.textContent = '–';
    detail.textContent = '';
  }
  renderCharts();
  try {
    const { config, trainSize } = readConfig();
    setStatus('Loading MNIST (10 class files, 21 MB)...', 'loading');
    mnist ??= tg.data.fetchMnist(new URL('/mnist/', location.href), { seed: 1 });
    const full = await mnist.catch((error: unknown) => {
      mnist = null;
      throw error;
    });
    const split = { train: tg.data.subset(full.train, trainSize), test: full.test };
    tg.setBackend(ui.backend.value as tg.BackendName);

    const ticket = await runOne('ticket', split, config);
    ui.ticketAccuracy.textContent = percent(ticket.testAccuracy);
    ui.ticketDetail.textContent = `(${percent(ticket.sparsity, 1)} sparse, binary weights, alpha ${config.alpha}, ${config.mask} masks, ${split.train.count} training digits)`;
    showLayers(ticket.layers);
    if (ui.withDense.checked && !stop.signal.aborted) {
      const dense = await runOne('dense', split, { ...config, method: 'dense' });
      ui.denseAccuracy.textContent = percent(dense.testAccuracy);
      const gap = 100 * (dense.testAccuracy - ticket.testAccuracy);
      ui.denseDetail.textContent = `(all weights trained; the ticket is ${Math.abs(gap).toFixed(2)} points ${gap >= 0 ? 'below' : 'above'})`;
    } else if (!ui.withDense.checked) {
      ui.denseDetail.textContent = '(not trained: tick "then train the dense baseline")';
    }
    if (stop.signal.aborted) setStatus('Stopped.', 'stopped');
    else setStatus(`Done: ticket ${percent(ticket.testAccuracy)} test accuracy on ${full.test.count} test digits.`, 'done');
  } catch (error) {
    setStatus(`Error: ${(error as Error).message}`, 'error');
  } finally {
    setRunning(false);
  }
}

ui.model.replaceChildren(...Object.entries(PAGE_MODELS).map(([value, spec]) => new Option(spec.label, value)));
ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void trainAll();
});
ui.stop.addEventListener('click', () => {
  stop.abort();
  setStatus('Stopping: evaluating what is trained so far...', 'training');
});
ui.maskLayer.addEventListener('change', drawMask);
renderCharts();
void detectBackends();

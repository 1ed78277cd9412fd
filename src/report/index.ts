// tg.report: SVG plots of training curves and score histograms (browser-safe).
export { type LineSeries, type LineChartOptions, type HistogramSeries, type HistogramOptions, type Bar, type BarChartOptions, lineChart, histogram, barChart } from './svg.js';
